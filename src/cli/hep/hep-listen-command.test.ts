import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CapturedMessage } from '../../collector/index.js';
import { messageJson, messageLine } from './hep-listen-command.js';

const m: CapturedMessage = {
  timeUs: 1_700_000_000_123_456, receivedUs: 1_700_000_000_200_000, callId: 'c1@host', srcAddr: '2001:db8::1', srcPort: 5061, dstAddr: '192.0.2.2',
  dstPort: 5060, transport: 'tls', protocolType: 1, status: 180, reason: 'Ringing', cseq: '1 INVITE', fromUri: 'sip:a@x', toUri: 'sip:b@x', toTag: 't',
  captureAgentId: 9, payload: new Uint8Array(321),
};

describe('parley hep listen output', () => {
  it('the live line: UTC time to the microsecond, source → destination (IPv6 in brackets), transport, status, Call-ID', () => {
    assert.equal(messageLine(m), '2023-11-14T22:13:20.123456Z  [2001:db8::1]:5061 → 192.0.2.2:5060  TLS  180 Ringing  c1@host');
    assert.equal(messageLine({ ...m, status: undefined, reason: undefined, method: 'BYE', timeUs: 1_700_000_000_000_001 } as CapturedMessage).slice(0, 28), '2023-11-14T22:13:20.000001Z ');
  });

  it('NDJSON: the summary and the payload size, not the payload', () => {
    const j = JSON.parse(JSON.stringify(messageJson(m))) as Record<string, unknown>;
    assert.deepEqual(j, {
      time: '2023-11-14T22:13:20.123456Z', timeUs: 1_700_000_000_123_456, src: '2001:db8::1', srcPort: 5061, dst: '192.0.2.2', dstPort: 5060, transport: 'tls',
      protocolType: 1, status: 180, reason: 'Ringing', callId: 'c1@host', cseq: '1 INVITE', from: 'sip:a@x', to: 'sip:b@x', toTag: 't', captureAgentId: 9, size: 321,
    });
  });
});
