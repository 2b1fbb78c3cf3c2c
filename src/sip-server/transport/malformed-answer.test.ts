import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage, serializeToString, SipParseError, SipRequest } from '../../sip/index.js';
import { malformedResponse, malformedStatus, malformedWarning, readableTopVia } from './malformed-answer.js';

/** The request parseMessage gives with its error (the message as far as it could be read). */
function partial(lines: readonly string[]): { request: SipRequest; error: SipParseError } {
  const r = parseMessage(`${lines.join('\r\n')}\r\n\r\n`);
  assert.equal(r.ok, false, 'malformed');
  if (r.ok || !(r.message instanceof SipRequest)) assert.fail('a partial request');
  return { request: r.message, error: r.error };
}

const VIA = 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1';

describe('malformedStatus', () => {
  it('505 for a version, 513 past a limit, else 400 naming the place', () => {
    assert.deepEqual(malformedStatus(new SipParseError('start-line/version', 'x')), { status: 505, reason: 'Version Not Supported' });
    assert.equal(malformedStatus(new SipParseError('message', 'exceeds the message size limit', 'ERR_SIP_LIMIT')).status, 513);
    assert.equal(malformedStatus(new SipParseError('stream', 'message larger than the size limit', 'ERR_SIP_FRAMING')).status, 513);
    assert.deepEqual(malformedStatus(new SipParseError('header/Content-Length', 'missing', 'ERR_SIP_FRAMING')), { status: 400, reason: 'Bad Request (header/Content-Length)' });
    assert.deepEqual(malformedStatus(new SipParseError('header/To', 'x')), { status: 400, reason: 'Bad Request (header/To)' });
  });

  it('the Warning carries no quote, backslash or control character of the detail', () => {
    assert.deepEqual(malformedWarning(new SipParseError('header/To', 'bad "x"\\\r\n\x00y')), ['Warning', '399 parley "bad  x     y"']);
  });
});

describe('readableTopVia', () => {
  const via = (v: string): string | undefined => readableTopVia(new SipRequest('OPTIONS', 'sip:a@b', [{ name: 'Via', key: 'via', value: v }]));
  it('reads sent-protocol and sent-by, whatever follows (RFC 4475 §3.1.2.1)', () => {
    assert.equal(via('SIP/2.0/UDP 192.0.2.15;;,;,,'), 'SIP/2.0/UDP 192.0.2.15');
    assert.equal(via('SIP / 2.0 / TCP  [2001:db8::1]:5070;branch=z9hG4bK1'), 'SIP / 2.0 / TCP  [2001:db8::1]:5070');
    assert.equal(via('SIP/7.0/UDP c.example.com;branch=1'), 'SIP/7.0/UDP c.example.com');
  });
  it('is undefined without a sent-protocol and a host', () => {
    assert.equal(via('garbage'), undefined);
    assert.equal(via('SIP/2.0/UDP'), undefined);
    assert.equal(via('SIP/2.0 192.0.2.1'), undefined);
    assert.equal(readableTopVia(new SipRequest('OPTIONS', 'sip:a@b', [])), undefined);
  });
});

describe('malformedResponse', () => {
  it('copies every Via and the first From, To, Call-ID and CSeq as raw text, even broken', () => {
    const { request, error } = partial([
      'INVITE sip:bob@example.com SIP/2.0',
      VIA,
      'v: SIP/2.0/UDP 192.0.2.2',
      'To: "Bob <sip:bob@example.com>',
      'f:   <sip:alice@example.com>;tag=a1',
      'Call-ID: c1@x',
      'Call-ID: c2@x',
      'CSeq: 99999999999999999999 INVITE',
      'Subject: not copied',
    ]);
    const res = malformedResponse(request, malformedStatus(error), [malformedWarning(error)]);
    assert.ok(res);
    assert.equal(
      serializeToString(res),
      [
        `SIP/2.0 400 Bad Request (${error.place})`,
        VIA,
        'v: SIP/2.0/UDP 192.0.2.2',
        'f:   <sip:alice@example.com>;tag=a1',
        'To: "Bob <sip:bob@example.com>',
        'Call-ID: c1@x',
        'CSeq: 99999999999999999999 INVITE',
        `Warning: ${malformedWarning(error)[1]}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  });

  it('tags a To that parses, the same tag for a retransmission', () => {
    const lines = ['OPTIONS sip:bob@example.com SIP/2.0', VIA, 'To: <sip:bob@example.com>', 'From: <sip:a@example.com>;tag=1', 'Call-ID: c', 'CSeq: 1 INVITE'];
    const a = partial(lines);
    const tagOf = (r: ReturnType<typeof malformedResponse>): string | undefined => r?.to.tag;
    const t1 = tagOf(malformedResponse(a.request, malformedStatus(a.error), []));
    assert.match(t1 ?? '', /^[0-9a-f]{16}$/);
    assert.equal(tagOf(malformedResponse(partial(lines).request, malformedStatus(a.error), [])), t1);
  });

  it('answers without the fields that are missing (RFC 4475 §3.3.1)', () => {
    const { request, error } = partial(['OPTIONS sip:bob@example.com SIP/2.0', VIA, 'CSeq: 1 OPTIONS']);
    const res = malformedResponse(request, malformedStatus(error), []);
    assert.ok(res);
    assert.deepEqual(res.fields.map((f) => f.key), ['via', 'cseq']);
  });

  it('is undefined for an ACK, or without a readable top Via', () => {
    const ack = partial(['ACK sip:bob@example.com SIP/2.0', VIA, 'CSeq: 1 ACK']);
    assert.equal(malformedResponse(ack.request, malformedStatus(ack.error), []), undefined);
    const noVia = partial(['OPTIONS sip:bob@example.com SIP/2.0', 'Via: nonsense', 'CSeq: 1 OPTIONS']);
    assert.equal(malformedResponse(noVia.request, malformedStatus(noVia.error), []), undefined);
  });
});
