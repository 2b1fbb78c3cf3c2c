import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCapturedCall } from './captures-command.js';

describe('parley captures CALL-ID', () => {
  it('a line per message in ladder order: offset, from → to, label', () => {
    const text = formatCapturedCall({
      callId: 'c1',
      messages: [],
      ladder: {
        callId: 'c1',
        participants: ['udp:127.0.0.1:5061', 'udp:127.0.0.1:5060'],
        arrows: [
          { t: 0, from: 'udp:127.0.0.1:5061', to: 'udp:127.0.0.1:5060', label: 'INVITE', message: '' },
          { t: 12.34, from: 'udp:127.0.0.1:5060', to: 'udp:127.0.0.1:5061', label: '180 Ringing', message: '' },
        ],
      },
    });
    assert.equal(text, ['c1: 2 SIP messages', '     +0.0 ms  udp:127.0.0.1:5061 → udp:127.0.0.1:5060  INVITE', '    +12.3 ms  udp:127.0.0.1:5060 → udp:127.0.0.1:5061  180 Ringing'].join('\n'));
  });
});
