import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columnLines, formatOffset, layoutLadder, ROW, TIME_WIDTH } from './ladder-layout.js';

const A = 'udp:127.0.0.1:5070';
const B = 'udp:127.0.0.1:5062';
const arrow = (t: number, from: string, to: string, label: string) => ({ t, from, to, label, message: `${label}\r\n\r\n` });

describe('the ladder diagram layout', () => {
  const ladder = {
    callId: 'c1',
    participants: [A, 'parley', B],
    arrows: [arrow(0, A, 'parley', 'INVITE'), arrow(1.2, 'parley', B, 'INVITE'), arrow(30, B, 'parley', '180 Ringing'), arrow(1500, 'parley', A, '486 Busy Here')],
  };

  it('a column per participant in order, sharing the width; an arrow per row, top to bottom, between its columns', () => {
    const l = layoutLadder(ladder, 900);
    assert.deepEqual(l.columns.map((c) => c.name), [A, 'parley', B]);
    const [a, p, b] = l.columns.map((c) => c.x) as [number, number, number];
    assert.ok(TIME_WIDTH < a && a < p && p < b && b < l.width, JSON.stringify(l.columns));
    assert.ok(l.width <= 900);
    assert.deepEqual(l.rows.map((r) => [r.x1, r.x2]), [[a, p], [p, b], [b, p], [p, a]]);
    const ys = l.rows.map((r) => r.y);
    assert.deepEqual(ys, [...ys].sort((x, y) => x - y));
    assert.ok(ys.every((y, i) => i === 0 || y - ys[i - 1]! === ROW));
    assert.ok(l.rows.every((r) => r.hit.height >= 40 && r.hit.width >= Math.abs(r.x2 - r.x1)), 'touch targets');
    assert.ok(l.rows.every((r) => r.y < l.bottom && r.y > l.top));
    assert.deepEqual(l.rows.map((r) => r.kind), ['request', 'request', 'response', 'error']);
    assert.deepEqual(l.rows.map((r) => r.time), ['+0.0 ms', '+1.2 ms', '+30.0 ms', '+1.50 s']);
  });

  it('three columns fit a phone (370 px); more keep a least width (the card scrolls); arrows to unknown columns are left out', () => {
    const l = layoutLadder({ ...ladder, arrows: [...ladder.arrows, arrow(2000, 'udp:192.0.2.9:5060', A, 'BYE')] }, 370);
    assert.ok(l.width <= 370, String(l.width));
    assert.equal(l.rows.length, 4);
    const wide = layoutLadder({ ...ladder, participants: [A, 'parley', B, 'tcp:192.0.2.9:5060', 'tls:192.0.2.10:5061'] }, 370);
    assert.ok(wide.width > 370);
    assert.ok(wide.columns.every((c, i) => i === 0 || c.x - wide.columns[i - 1]!.x >= 100));
    assert.deepEqual(columnLines(A), ['127.0.0.1:5070', 'udp']);
    assert.deepEqual(columnLines('parley'), ['Parley']);
  });

  it('three socket addresses on a phone: each port under its address, so that the names do not run into each other; long labels cut to their arrow', () => {
    const C = 'udp:127.0.0.1:16217';
    const l = layoutLadder({ callId: 'c', participants: [A, B, C], arrows: [arrow(0, B, A, '100 trying -- your call is important to us'), arrow(1, A, C, '100 trying -- your call is important to us')] }, 388);
    assert.deepEqual(l.columns.map((c) => c.lines), [['127.0.0.1', ':5070 udp'], ['127.0.0.1', ':5062 udp'], ['127.0.0.1', ':16217 udp']]);
    const [near, far] = l.rows;
    assert.equal(near!.label, '100 trying -- your call is important to us');
    assert.ok(near!.text.endsWith('…') && near!.text.length * 6.6 <= Math.abs(near!.x2 - near!.x1), near!.text);
    assert.ok(far!.text.length > near!.text.length, far!.text);
    // wide enough: one line each, labels whole
    const wide = layoutLadder({ callId: 'c', participants: [A, B, C], arrows: [arrow(0, B, A, '180 Ringing')] }, 1300);
    assert.deepEqual(wide.columns.map((c) => c.lines[0]), ['127.0.0.1:5070', '127.0.0.1:5062', '127.0.0.1:16217']);
    assert.equal(wide.rows[0]!.text, '180 Ringing');
  });

  it('formats offsets', () => {
    assert.equal(formatOffset(0), '+0.0 ms');
    assert.equal(formatOffset(999.94), '+999.9 ms');
    assert.equal(formatOffset(61_000), '+1 min 1 s');
  });
});
