import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUri } from '../../sip/index.js';
import { FlowTokens } from './flow-token.js';

describe('FlowTokens (RFC 5626 §5.2)', () => {
  const tokens = new FlowTokens(Buffer.alloc(32, 7));

  it('decodes what it encoded, and the token is a valid SIP URI user part', () => {
    for (const id of [1, 42, 123456789, 2 ** 40]) {
      const t = tokens.encode(id);
      assert.equal(tokens.decode(t), id);
      const uri = parseUri(`sip:${t}@127.0.0.1:8443;transport=ws;lr`);
      assert.ok(uri.kind === 'sip' && uri.user === t);
    }
  });

  it('refuses an edited id or MAC, a token of another secret (a restart), and anything else', () => {
    const t = tokens.encode(5);
    assert.equal(tokens.decode(t.replace('fl5-', 'fl6-')), undefined);
    assert.equal(tokens.decode(t.slice(0, -1) + (t.endsWith('0') ? '1' : '0')), undefined);
    assert.equal(new FlowTokens(Buffer.alloc(32, 8)).decode(t), undefined);
    for (const junk of [undefined, '', 'alice', 'fl5', 'fl0-0000000000000000', 'fl05-0000000000000000', `${t}x`]) assert.equal(tokens.decode(junk), undefined, String(junk));
  });
});
