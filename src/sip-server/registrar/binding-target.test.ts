import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContactBinding } from '../../store/binding-store.js';
import { bindingTarget } from './binding-target.js';

function binding(o: Partial<ContactBinding> = {}): ContactBinding {
  return {
    aor: 'bob@example.com',
    contact: 'sip:bob@192.0.2.50:5062',
    expires: 2_000_000_000_000,
    q: 0.5,
    callId: 'c1',
    cseq: 1,
    path: [],
    received: { transport: 'udp', address: '192.0.2.50', port: 40000, localAddress: '127.0.0.1', localPort: 5060 },
    node: 'local',
    updatedAt: 0,
    ...o,
  };
}

describe('bindingTarget: the proxy target of a registered contact', () => {
  it('sendTo contact: the Contact URI without a flow (the proxy resolves it, RFC 3263)', () => {
    const t = bindingTarget(binding({ sendTo: 'contact' }));
    assert.equal(t.uri.toString(), 'sip:bob@192.0.2.50:5062');
    assert.equal(t.q, 0.5);
    assert.equal(t.flow, undefined);
  });

  it('sendTo source, or absent (stored before the field existed): the address the REGISTER came from', () => {
    for (const sendTo of ['source', undefined] as const) {
      const t = bindingTarget(binding(sendTo === undefined ? {} : { sendTo }));
      assert.equal(t.uri.toString(), 'sip:bob@192.0.2.50:5062');
      assert.deepEqual(t.flow, { transport: 'udp', remoteAddress: '192.0.2.50', remotePort: 40000, localAddress: '127.0.0.1', localPort: 5060 });
    }
  });

  it('a binding tied to a connection goes over it, and a Path becomes the route', () => {
    const t = bindingTarget(binding({ sendTo: 'contact', connectionId: 9, received: { transport: 'tcp', address: '192.0.2.50', port: 40000 }, path: ['<sip:edge.example.com;lr>'] }));
    assert.equal(t.flow?.connectionId, 9);
    assert.deepEqual(t.route, ['<sip:edge.example.com;lr>']);
  });
});
