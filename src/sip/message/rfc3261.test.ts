/**
 * The example messages of RFC 3261 §24 (testdata/rfc3261; the SDP bodies the RFC leaves out were
 * written for these files, see testdata/README.md): each parses, its typed values are right, and
 * it serializes back byte-exact.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseMessage, serialize, SipRequest, SipResponse, type SipUri } from '../index.js';

const dir = new URL('./testdata/rfc3261/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.sip')).sort();

describe('RFC 3261 §24 examples', () => {
  it('there are 16 of them', () => assert.equal(files.length, 16));

  for (const f of files) {
    it(`${f} parses, validates and round-trips`, () => {
      const bytes = readFileSync(new URL(f, dir));
      const r = parseMessage(bytes);
      assert.ok(r.ok, r.ok ? '' : r.error.message);
      if (!r.ok) return;
      assert.equal(r.message.validate(), undefined);
      assert.deepEqual(Buffer.from(serialize(r.message)), bytes);
    });
  }

  it('24.1 REGISTER carries the binding the registrar stores', () => {
    const f = files.find((x) => x.startsWith('24.1-F1'))!;
    const r = parseMessage(readFileSync(new URL(f, dir)));
    assert.ok(r.ok && r.message instanceof SipRequest);
    if (!r.ok || !(r.message instanceof SipRequest)) return;
    const m = r.message;
    assert.equal(m.method, 'REGISTER');
    assert.equal((m.to.uri as SipUri).user, 'bob');
    assert.equal(m.contact.length, 1);
    assert.equal(m.expires ?? m.contact[0]!.expires, 7200);
  });

  it('24.2 F9: the 200 carries three folded Vias with received parameters', () => {
    const f = '24.2-F9-200-ok.sip';
    const r = parseMessage(readFileSync(new URL(f, dir)));
    assert.ok(r.ok && r.message instanceof SipResponse);
    if (!r.ok) return;
    assert.deepEqual(r.message.via.map((v) => v.received), ['192.0.2.3', '192.0.2.2', '192.0.2.1']);
    assert.equal(r.message.to.tag, 'a6c85cf');
    assert.equal(r.message.body.length, r.message.contentLength);
  });
});
