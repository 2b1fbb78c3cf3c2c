// The phone page as a person uses it, for the browser suites: open it from a link, read its
// state lines and error, press its buttons, and read WebRTC statistics from its peer connection.
// Every wait is bounded; a failed wait says what the page showed and what it printed.
import type { Page } from 'playwright-core';
import type { PageLog } from './browser.js';

/** What runs inside the page (page.evaluate): the phone's window.parleyPhone (web/phone/phone.ts). */
interface StatsReport {
  forEach(cb: (r: never) => void): void;
}
declare const window: {
  readonly parleyPhone: { readonly peerConnection: { getStats(): Promise<StatsReport>; getConfiguration(): { iceServers?: Array<{ urls: string | string[] }> } } | undefined };
};

export type RegistrationState = 'unregistered' | 'connecting' | 'registering' | 'registered' | 'failed';
export type CallState = 'idle' | 'calling' | 'ringing' | 'incoming' | 'connecting' | 'in-call' | 'ended' | 'failed';

export interface PhoneLink {
  readonly username?: string;
  readonly password?: string;
  readonly displayName?: string;
  readonly target?: string;
  readonly autoRegister?: boolean;
  /** `relay`: the page's RTCPeerConnection takes relayed candidates only (`?ice=relay`). */
  readonly ice?: 'relay';
  /** `info`: the keypad sends SIP INFO instead of RFC 4733 events (`?dtmf=info`). */
  readonly dtmf?: 'info';
}

/** The link of the README: /phone?username=…&displayname=…&target=…&autoregister=1#password=… */
export function phoneUrl(origin: string, l: PhoneLink): string {
  const q = new URLSearchParams();
  if (l.username !== undefined) q.set('username', l.username);
  if (l.displayName !== undefined) q.set('displayname', l.displayName);
  if (l.target !== undefined) q.set('target', l.target);
  if (l.autoRegister) q.set('autoregister', '1');
  if (l.ice !== undefined) q.set('ice', l.ice);
  if (l.dtmf !== undefined) q.set('dtmf', l.dtmf);
  const hash = l.password === undefined ? '' : `#${new URLSearchParams({ password: l.password }).toString()}`;
  return `${origin}/phone${q.size > 0 ? `?${q.toString()}` : ''}${hash}`;
}

/** Inbound and outbound RTP packet counts per kind, from RTCPeerConnection.getStats(). */
export interface RtpCounts {
  readonly inbound: { audio: number; video: number };
  readonly outbound: { audio: number; video: number };
}

export class PhonePage {
  constructor(
    readonly name: string,
    readonly page: Page,
    readonly log: PageLog,
    /** More context for failure messages (the server's log). */
    private readonly context: () => string = () => '',
  ) {}

  async open(origin: string, link: PhoneLink): Promise<void> {
    await this.page.goto(phoneUrl(origin, link), { waitUntil: 'load' });
    // the module has run once the state lines carry a data-state and the version is written
    await this.page.locator('#version').filter({ hasText: 'JsSIP' }).waitFor({ timeout: 10_000 });
  }

  registrationState(): Promise<string | null> {
    return this.page.getByTestId('registration-state').getAttribute('data-state');
  }

  registrationText(): Promise<string> {
    return this.page.getByTestId('registration-state').innerText();
  }

  callState(): Promise<string | null> {
    return this.page.getByTestId('call-state').getAttribute('data-state');
  }

  callText(): Promise<string> {
    return this.page.getByTestId('call-state').innerText();
  }

  /** The error line ('' when hidden). */
  async error(): Promise<string> {
    const e = this.page.getByTestId('error');
    return (await e.isVisible()) ? e.innerText() : '';
  }

  /** Wait until the registration line is in `state` (fails, with the page's account, otherwise). */
  async waitRegistration(state: RegistrationState, timeoutMs = 10_000): Promise<void> {
    await this.waitFor(`registration state "${state}"`, async () => {
      const now = await this.registrationState();
      // waiting to be registered: a refusal is final, say so at once
      if (state === 'registered' && now === 'failed' && (await this.error()) !== '' && !/Cannot reach/.test(await this.error())) {
        throw new Error(`${this.name}: registration failed\n${await this.describe()}`);
      }
      return now === state;
    }, timeoutMs);
  }

  async waitCall(state: CallState | readonly CallState[], timeoutMs = 10_000): Promise<void> {
    const want = typeof state === 'string' ? [state] : state;
    await this.waitFor(`call state ${want.map((s) => `"${s}"`).join(' or ')}`, async () => want.includes((await this.callState()) as CallState), timeoutMs);
  }

  /** Wait until the error line says something matching `re`. */
  async waitError(re: RegExp, timeoutMs = 10_000): Promise<string> {
    let last = '';
    await this.waitFor(`an error matching ${re}`, async () => re.test((last = await this.error())), timeoutMs);
    return last;
  }

  async register(username: string, password: string, displayName?: string): Promise<void> {
    await this.page.getByTestId('username').fill(username);
    await this.page.getByTestId('password').fill(password);
    if (displayName !== undefined) await this.page.getByTestId('displayname').fill(displayName);
    await this.page.getByTestId('register').click();
  }

  async call(target: string): Promise<void> {
    await this.page.getByTestId('target').fill(target);
    await this.page.getByTestId('call').click();
  }

  async answer(): Promise<void> {
    await this.page.getByTestId('answer').click();
  }

  async reject(): Promise<void> {
    await this.page.getByTestId('reject').click();
  }

  async hangup(): Promise<void> {
    await this.page.getByTestId('hangup').click();
  }

  /** Open the keypad (behind its toggle in the call's control bar) and press `tones`. */
  async pressKeys(tones: string): Promise<void> {
    const toggle = this.page.getByTestId('keypad-toggle');
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    const ids: Record<string, string> = { '*': 'star', '#': 'hash' };
    for (const t of tones) await this.page.getByTestId(`dtmf-${ids[t] ?? t}`).click();
  }

  /** RTP packets received and sent so far in the current call (getStats() of its RTCPeerConnection). */
  rtpCounts(): Promise<RtpCounts> {
    return this.page.evaluate(async () => {
      const pc = window.parleyPhone.peerConnection;
      const counts = { inbound: { audio: 0, video: 0 }, outbound: { audio: 0, video: 0 } };
      if (pc === undefined) return counts;
      const report = await pc.getStats();
      report.forEach((r: { type: string; kind?: string; packetsReceived?: number; packetsSent?: number }) => {
        if (r.kind !== 'audio' && r.kind !== 'video') return;
        if (r.type === 'inbound-rtp') counts.inbound[r.kind] += r.packetsReceived ?? 0;
        if (r.type === 'outbound-rtp') counts.outbound[r.kind] += r.packetsSent ?? 0;
      });
      return counts;
    });
  }

  /** The inbound audio stream's counters as Chromium reports them (inbound-rtp, kind audio), and its codec: for assertion messages. */
  inboundAudio(): Promise<Record<string, unknown> | undefined> {
    return this.page.evaluate(async () => {
      const pc = window.parleyPhone.peerConnection;
      if (pc === undefined) return undefined;
      const report = await pc.getStats();
      let found: Record<string, unknown> | undefined;
      const all = new Map<string, Record<string, unknown>>();
      report.forEach((r: Record<string, unknown>) => all.set(r.id as string, r));
      for (const r of all.values()) if (r.type === 'inbound-rtp' && r.kind === 'audio') found = r;
      if (found === undefined) return undefined;
      const codec = typeof found.codecId === 'string' ? all.get(found.codecId) : undefined;
      const keep = ['packetsReceived', 'packetsLost', 'bytesReceived', 'jitter', 'totalAudioEnergy', 'audioLevel', 'totalSamplesReceived', 'concealedSamples', 'silentConcealedSamples', 'packetsDiscarded', 'ssrc'];
      const out: Record<string, unknown> = { codec: codec === undefined ? undefined : `${codec.mimeType}/${codec.clockRate} pt ${codec.payloadType}` };
      for (const k of keep) out[k] = found[k];
      return out;
    });
  }

  /** The URLs of the ICE servers the current call's RTCPeerConnection was configured with. */
  iceServerUrls(): Promise<Array<string | string[]> | undefined> {
    return this.page.evaluate(() => window.parleyPhone.peerConnection?.getConfiguration().iceServers?.map((i) => i.urls));
  }

  /** What has arrived so far: the audio energy (silence adds nothing) and the video bytes (black frames are few). */
  mediaReceived(): Promise<{ audioEnergy: number; videoBytes: number }> {
    return this.page.evaluate(async () => {
      const pc = window.parleyPhone.peerConnection;
      const got = { audioEnergy: 0, videoBytes: 0 };
      if (pc === undefined) return got;
      const report = await pc.getStats();
      report.forEach((r: { type: string; kind?: string; totalAudioEnergy?: number; bytesReceived?: number }) => {
        if (r.type !== 'inbound-rtp') return;
        if (r.kind === 'audio') got.audioEnergy += r.totalAudioEnergy ?? 0;
        if (r.kind === 'video') got.videoBytes += r.bytesReceived ?? 0;
      });
      return got;
    });
  }

  /** The ICE candidate pair in use: both addresses, for "media stayed on loopback". */
  selectedCandidatePair(): Promise<{ local: string; remote: string; state: string } | undefined> {
    return this.page.evaluate(async () => {
      const pc = window.parleyPhone.peerConnection;
      if (pc === undefined) return undefined;
      const report = await pc.getStats();
      type Stat = { type: string; id: string; selectedCandidatePairId?: string; localCandidateId?: string; remoteCandidateId?: string; state?: string; address?: string; port?: number; protocol?: string };
      const all = new Map<string, Stat>();
      report.forEach((r: Stat) => all.set(r.id, r));
      const transport = [...all.values()].find((r) => r.type === 'transport' && r.selectedCandidatePairId);
      const pair = transport ? all.get(transport.selectedCandidatePairId!) : undefined;
      if (pair === undefined) return undefined;
      // no named inner functions here: the test's transpiler would wrap them in a helper the page lacks
      const ends = [pair.localCandidateId, pair.remoteCandidateId].map((id) => (id ? all.get(id) : undefined)).map((c) => (c ? `${c.protocol} ${c.address}:${c.port}` : '?'));
      return { local: ends[0]!, remote: ends[1]!, state: pair.state ?? '?' };
    });
  }

  /**
   * The selected ICE candidate pair with both candidates' types (host, srflx, prflx, relay) and the
   * pair's counters; undefined before one is selected.
   */
  selectedPairDetail(): Promise<{ localType: string; remoteType: string; local: string; remote: string; state: string; relayProtocol: string; bytesReceived: number } | undefined> {
    return this.page.evaluate(async () => {
      const pc = window.parleyPhone.peerConnection;
      if (pc === undefined) return undefined;
      const report = await pc.getStats();
      type Stat = { type: string; id: string; selectedCandidatePairId?: string; localCandidateId?: string; remoteCandidateId?: string; state?: string; address?: string; port?: number; protocol?: string; candidateType?: string; relayProtocol?: string; bytesReceived?: number };
      const all = new Map<string, Stat>();
      report.forEach((r: Stat) => all.set(r.id, r));
      const transport = [...all.values()].find((r) => r.type === 'transport' && r.selectedCandidatePairId);
      const pair = transport ? all.get(transport.selectedCandidatePairId!) : undefined;
      if (pair === undefined) return undefined;
      const l = pair.localCandidateId ? all.get(pair.localCandidateId) : undefined;
      const r = pair.remoteCandidateId ? all.get(pair.remoteCandidateId) : undefined;
      return {
        localType: l?.candidateType ?? '?',
        remoteType: r?.candidateType ?? '?',
        local: l ? `${l.protocol} ${l.address}:${l.port}` : '?',
        remote: r ? `${r.protocol} ${r.address}:${r.port}` : '?',
        state: pair.state ?? '?',
        relayProtocol: l?.relayProtocol ?? '',
        bytesReceived: pair.bytesReceived ?? 0,
      };
    });
  }

  /** Every candidate pair's state and its two candidates' types, and the local candidates' types. */
  iceSummary(): Promise<{ pairs: Array<{ state: string; local: string; remote: string }>; localTypes: string[]; connectionState: string }> {
    return this.page.evaluate(async () => {
      const pc = window.parleyPhone.peerConnection as unknown as { getStats(): Promise<StatsReport>; iceConnectionState: string } | undefined;
      const out = { pairs: [] as Array<{ state: string; local: string; remote: string }>, localTypes: [] as string[], connectionState: pc?.iceConnectionState ?? 'none' };
      if (pc === undefined) return out;
      const report = await pc.getStats();
      type Stat = { type: string; id: string; localCandidateId?: string; remoteCandidateId?: string; state?: string; candidateType?: string; address?: string; port?: number };
      const all = new Map<string, Stat>();
      report.forEach((r: Stat) => all.set(r.id, r));
      for (const r of all.values()) {
        if (r.type === 'local-candidate') out.localTypes.push(`${r.candidateType} ${r.address}:${r.port}`);
        if (r.type === 'candidate-pair') {
          const l = r.localCandidateId ? all.get(r.localCandidateId) : undefined;
          const m = r.remoteCandidateId ? all.get(r.remoteCandidateId) : undefined;
          out.pairs.push({ state: r.state ?? '?', local: `${l?.candidateType} ${l?.address}:${l?.port}`, remote: `${m?.candidateType} ${m?.address}:${m?.port}` });
        }
      }
      return out;
    });
  }

  /** What the page shows and printed: for assertion messages. */
  async describe(withContext = true): Promise<string> {
    const read = async (f: () => Promise<unknown>): Promise<string> => {
      try {
        return String(await f());
      } catch (e) {
        return `(${(e as Error).message.split('\n')[0]})`;
      }
    };
    return [
      `--- ${this.name}'s page (${this.page.url().replace(/#.*/, '')}):`,
      `registration: [${await read(() => this.registrationState())}] ${await read(() => this.registrationText())}`,
      `call: [${await read(() => this.callState())}] ${await read(() => this.callText())}`,
      `error: ${await read(() => this.error())}`,
      `console (last 40 lines):`,
      ...this.log.lines.slice(-40),
      withContext ? this.context() : '',
    ].filter((l) => l !== '').join('\n');
  }

  private async waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let done = false;
      try {
        done = await check();
      } catch (e) {
        if (e instanceof Error && e.message.startsWith(`${this.name}: `)) throw e;
      }
      if (done) return;
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms\n${await this.describe()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Poll `f` until `ok` holds for its value, within `timeoutMs`; returns the last value either way. */
export async function pollUntil<T>(f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, intervalMs = 250): Promise<{ value: T; ok: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let value = await f();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    value = await f();
  }
  return { value, ok: ok(value) };
}
