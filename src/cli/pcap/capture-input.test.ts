import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pcapFileHeader, pcapRecord, udpFrame } from '../../pcap/pcap-writer.js';
import { CaptureInput, PROGRESS_MIN_BYTES, showsProgress, withCaptureInput } from './capture-input.js';
import { capturedIo } from './testdata/captured-io.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-capture-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ends = { src: '192.0.2.1', srcPort: 4000, dst: '192.0.2.2', dstPort: 4002 };

/** A pcap of `n` UDP records, each payload filled with its number (so a reused buffer shows). */
function capture(name: string, n: number, payloadBytes = 100): string {
  const records = Array.from({ length: n }, (_, i) => pcapRecord(BigInt(i) * 1_000_000n, udpFrame(ends, new Uint8Array(payloadBytes).fill(i & 0xff))!));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([pcapFileHeader(), ...records]));
  return path;
}

function terminal(): ReturnType<typeof capturedIo> {
  const o = capturedIo();
  Object.assign(o.stderr, { isTTY: true, columns: 120 });
  return o;
}

describe('reading a capture for parley pcap', () => {
  it('shows the bar only on a terminal stderr, without --json, for a big enough file', () => {
    assert.equal(showsProgress(terminal(), false, PROGRESS_MIN_BYTES), true);
    assert.equal(showsProgress(terminal(), false, PROGRESS_MIN_BYTES - 1), false);
    assert.equal(showsProgress(terminal(), true, PROGRESS_MIN_BYTES), false);
    assert.equal(showsProgress(capturedIo(), false, PROGRESS_MIN_BYTES), false);
  });

  it('hands out every record in small chunks, pass after pass, and draws the bar by bytes', async () => {
    const file = capture('big.pcap', 150, 60_000); // 9.0 MB
    const o = terminal();
    const r = await withCaptureInput(file, o, { json: false, chunkBytes: 1 << 20 }, async (input) => {
      const seen: number[] = [];
      const first = await input.records((rec) => seen.push(rec.data[rec.data.length - 1]!));
      const again = await input.records(() => undefined, { label: 'again', reuseBuffer: true });
      return { first, again, seen };
    });
    assert.ok(r.ok);
    assert.ok(r.value.first.ok && r.value.first.value.records === 150);
    assert.ok(r.value.again.ok && r.value.again.value.records === 150);
    assert.deepEqual(r.value.seen, Array.from({ length: 150 }, (_, i) => i & 0xff));
    assert.match(o.err(), /reading \[.*\] 100% \| 9\.0 of 9\.0 MB/);
    assert.match(o.err(), /again \[.*\] 100%/);
  });

  it('a reused buffer is overwritten by the next chunk; fresh chunks are kept whole', async () => {
    const file = capture('small.pcap', 40, 100);
    const opened = await CaptureInput.open(file, capturedIo(), { json: true, chunkBytes: 1024 });
    assert.ok(opened.ok);
    const input = opened.value;
    const fresh: Uint8Array[] = [];
    for await (const c of input.chunks()) fresh.push(c);
    const reused: Uint8Array[] = [];
    for await (const c of input.chunks({ reuseBuffer: true })) reused.push(c);
    await input.close();
    assert.ok(fresh.length > 2);
    assert.equal(new Set(fresh.map((c) => c.buffer)).size, fresh.length);
    assert.equal(new Set(reused.map((c) => c.buffer)).size, 1);
    assert.equal(fresh.reduce((n, c) => n + c.length, 0), input.size);
  });

  it('names the file that cannot be read, and the offset of a damaged one', async () => {
    const missing = await withCaptureInput(join(dir, 'none.pcap'), capturedIo(), { json: false }, async () => 1);
    assert.deepEqual(missing, { ok: false, error: `${join(dir, 'none.pcap')}: no such file` });
    const directory = await withCaptureInput(dir, capturedIo(), { json: false }, async () => 1);
    assert.deepEqual(directory, { ok: false, error: `${dir}: not a file` });
    const cut = join(dir, 'cut.pcap');
    const whole = capture('whole.pcap', 3);
    const record = (readFileSync(whole).length - 24) / 3;
    writeFileSync(cut, readFileSync(whole).subarray(0, 24 + 2 * record + 20));
    const r = await withCaptureInput(cut, capturedIo(), { json: false }, (input) => input.records(() => undefined));
    assert.ok(r.ok && !r.value.ok);
    assert.equal(r.value.error.offset, 24 + 2 * record);
    assert.match(r.value.error.message, new RegExp(`truncated .* at offset ${24 + 2 * record}`));
  });
});
