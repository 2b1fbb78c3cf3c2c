/**
 * Script contexts (script-contexts.ts): `ctx.save({ natDetection })`, a routing script's choice of
 * where requests to a REGISTER's UDP contacts go, over `registrar.natDetection`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RequestContext } from './routing-api.js';
import { RoutingHarness } from './test-harness.js';

/** REGISTERs from users named `always…` are saved with natDetection `always`, others with `never`; calls go to the contacts. */
const script = {
  async onRequest(ctx: RequestContext): Promise<void> {
    if (ctx.request.method === 'REGISTER') {
      await ctx.save({ natDetection: ctx.request.to.uri.toString().includes('always') ? 'always' : 'never' });
      return;
    }
    if (ctx.lookup() === 0) {
      ctx.reply(480);
      return;
    }
    ctx.relay();
  },
};

describe('ctx.save({ natDetection })', () => {
  let h: RoutingHarness;
  before(async () => {
    h = await RoutingHarness.start({ script });
  });
  after(() => h.close());

  it('always: the REGISTER\'s source although Via and source agree; never: the Contact although they differ', async () => {
    // Via and source agree (198.51.100.1:5070), the Contact names port 5072: `always` takes the source
    const a = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:always@example.com', to: 'sip:always@example.com', contact: 'sip:always@198.51.100.1:5072' }));
    assert.equal(a.status, 200);
    assert.deepEqual(h.location.lookup('always@example.com').map((b) => b.sendTo), ['source']);
    const toAlways = await h.send(h.request('INVITE', 'sip:always@example.com'));
    assert.deepEqual(toAlways.destinations, ['udp:198.51.100.1:5070']);
    await toAlways.respond(486);

    // from another address than the Via says (a NAT sign): `never` takes the Contact
    const n = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:never@example.com', to: 'sip:never@example.com', contact: 'sip:never@198.51.100.1:5072' }), { source: { address: '203.0.113.9', port: 40000 } });
    assert.equal(n.status, 200);
    assert.deepEqual(h.location.lookup('never@example.com').map((b) => b.sendTo), ['contact']);
    const toNever = await h.send(h.request('INVITE', 'sip:never@example.com'));
    assert.deepEqual(toNever.destinations, ['udp:198.51.100.1:5072']);
    await toNever.respond(486);
  });
});
