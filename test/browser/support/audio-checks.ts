// What the media suites check of a call between the phone page and Debian's baresip, whatever
// relays it (Parley's media gateway, rtpengine behind Kamailio, Parley's media plane behind
// Kamailio): audio both ways, what flows on hold, and what baresip decoded (sox).
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Baresip } from '../../interop/support/baresip.js';
import { soxStat, type SoxStat } from '../../interop/support/sox.js';
import { pollUntil, type PhonePage } from './phone.js';

/**
 * Audio both ways: the browser receives 100 packets or more and they are not silence (its inbound
 * audio energy grows: a track that plays), and baresip receives 100 of the browser's.
 */
export async function audioBothWays(alice: PhonePage, bob: Baresip, relay: string, context: () => Promise<string>): Promise<void> {
  const inbound = await pollUntil(() => alice.rtpCounts(), (c) => c.inbound.audio >= 100, 20_000);
  assert.ok(inbound.ok, `the browser received ${inbound.value.inbound.audio} audio packets from baresip through ${relay}\n${await context()}`);
  const energy = await pollUntil(() => alice.mediaReceived(), (m) => m.audioEnergy > 0.01, 10_000);
  assert.ok(energy.ok, `the browser's received audio is not silence (energy ${energy.value.audioEnergy}): ${JSON.stringify(await alice.inboundAudio())}\n${await context()}`);
  const counts = await bob.rtpFlowing(100, 20_000);
  assert.ok(counts.rx >= 100, `baresip received the browser's audio: ${JSON.stringify(counts)}\n${await context()}`);
}

/** Inbound audio packets of the page over `ms`. */
export async function inboundOver(alice: PhonePage, ms: number): Promise<number> {
  const a = (await alice.rtpCounts()).inbound.audio;
  await new Promise((r) => setTimeout(r, ms));
  return (await alice.rtpCounts()).inbound.audio - a;
}

/** What baresip decoded in its latest call (sndfile's dump-…-dec.wav in `dir`), measured by sox after the first second. */
export async function decodedByBaresip(dir: string): Promise<SoxStat> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('-dec.wav')).sort();
  const last = files.at(-1);
  assert.ok(last !== undefined, `baresip recorded no decoded audio in ${dir}: ${(await readdir(dir)).join(', ')}`);
  return soxStat(join(dir, last), 1);
}
