/**
 * The Parley phone: a page a person opens at https://<server>/phone to register, call, answer,
 * reject, hang up, mute and send DTMF, with JsSIP over the same origin's WebSocket (`/sip`,
 * RFC 7118) and WebRTC for the media. Bundled by scripts/build-web.mjs (esbuild) into
 * dist/web/phone/phone.js; no CDN.
 *
 * (ws:// when the page itself is plain http, which browsers allow for localhost.)
 *
 * What tests and people read: `#registration-state` and `#call-state` (a sentence each, and a
 * stable `data-state`), `#error` (a sentence), `data-testid` on every control, and
 * `window.parleyPhone` (the current RTCPeerConnection, for getStats()).
 */
import * as JsSIP from 'jssip';
import type { IncomingDTMFEvent, OutgoingDTMFEvent, RTCSession } from 'jssip/lib/RTCSession';
import type { Socket } from 'jssip/lib/Socket';
import type { RTCSessionEvent, UA } from 'jssip/lib/UA';
import { keepMd5Challenges } from './challenge-filter.js';
import { callEndText, callFailureText, disconnectedText, formatDuration, registrationFailureText, type Outcome } from './messages.js';
import { hashWithoutPassword, isValidHost, isValidUser, parsePhoneParams, targetToUri, uriHost } from './params.js';
import { fetchTurnCredentials, turnIceServer } from './turn-credentials.js';

/** What the server tells the page (GET /phone/config.json). */
interface PhoneConfig {
  /** The SIP domain users register under (AOR sip:user@domain). */
  readonly domain: string;
  /** ICE servers for RTCPeerConnection (from the server's `phone.iceServers`). */
  readonly iceServers: RTCIceServer[];
  /** The WebSocket path on this origin (default /sip). */
  readonly wsPath?: string;
}

export type RegistrationState = 'unregistered' | 'connecting' | 'registering' | 'registered' | 'failed';
export type CallState = 'idle' | 'calling' | 'ringing' | 'incoming' | 'connecting' | 'in-call' | 'ended' | 'failed';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from the page`);
  return el as T;
};

const ui = {
  error: $<HTMLParagraphElement>('error'),
  registerForm: $<HTMLFormElement>('register-form'),
  username: $<HTMLInputElement>('username'),
  password: $<HTMLInputElement>('password'),
  displayName: $<HTMLInputElement>('displayname'),
  register: $<HTMLButtonElement>('register'),
  unregister: $<HTMLButtonElement>('unregister'),
  registrationState: $<HTMLParagraphElement>('registration-state'),
  callForm: $<HTMLFormElement>('call-form'),
  target: $<HTMLInputElement>('target'),
  call: $<HTMLButtonElement>('call'),
  hangup: $<HTMLButtonElement>('hangup'),
  callState: $<HTMLParagraphElement>('call-state'),
  callTimer: $<HTMLParagraphElement>('call-timer'),
  incoming: $<HTMLDivElement>('incoming'),
  incomingText: $<HTMLParagraphElement>('incoming-text'),
  answer: $<HTMLButtonElement>('answer'),
  reject: $<HTMLButtonElement>('reject'),
  inCall: $<HTMLDivElement>('in-call'),
  muteAudio: $<HTMLButtonElement>('mute-audio'),
  muteVideo: $<HTMLButtonElement>('mute-video'),
  dtmfSent: $<HTMLOutputElement>('dtmf-sent'),
  dtmfReceived: $<HTMLOutputElement>('dtmf-received'),
  remoteVideo: $<HTMLVideoElement>('remote-video'),
  remoteCaption: $<HTMLElement>('remote-caption'),
  localVideo: $<HTMLVideoElement>('local-video'),
  mediaState: $<HTMLParagraphElement>('media-state'),
  server: $<HTMLElement>('server'),
  domain: $<HTMLElement>('domain'),
  version: $<HTMLElement>('version'),
};

/** SIP over WebSocket on the page's own origin: wss for an https page (ws for a plain-http development page). */
const wsUrl = (path: string): string => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
let serverUrl = wsUrl('/sip');
let config: PhoneConfig = { domain: location.hostname, iceServers: [] };
let ua: UA | undefined;
/** The AOR registered (or being registered), e.g. sip:alice@example.com. */
let aor = '';
let registrationState: RegistrationState = 'unregistered';
let session: RTCSession | undefined;
/** How the page names the other side of the current call in sentences. */
let peer = '';
let callState: CallState = 'idle';
let localStream: MediaStream | undefined;
let callTimer: number | undefined;
let statsTimer: number | undefined;
/** `?ice=relay`: relayed candidates only. */
let iceTransportPolicy: RTCIceTransportPolicy = 'all';
/**
 * Parley's own TURN server, with credentials the page fetched for the registered account
 * (turn-credentials.ts); added to `phone.iceServers`. `login` is what they are fetched with.
 */
let turn: { login: { user: string; password: string }; server?: RTCIceServer; expiresAt?: number } | undefined;

// --- small helpers --------------------------------------------------------------------------

function showError(text: string): void {
  ui.error.textContent = text;
  ui.error.hidden = false;
}

function clearError(): void {
  ui.error.textContent = '';
  ui.error.hidden = true;
}

/** The tab's title says who this phone is and whether someone calls: two tabs side by side stay apart. */
function updateTitle(): void {
  const who = registrationState === 'registered' ? aor.replace(/^sip:/, '').replace(/@.*/, '') : '';
  const what = callState === 'incoming' ? `${peer} is calling` : callState === 'in-call' ? `in a call with ${peer}` : '';
  document.title = [who, what, 'Parley phone'].filter(Boolean).join(' · ');
}

function setRegistration(state: RegistrationState, text: string): void {
  registrationState = state;
  ui.registrationState.dataset.state = state;
  ui.registrationState.textContent = text;
  const active = state !== 'unregistered' && state !== 'failed';
  ui.unregister.disabled = !active;
  updateCallButtons();
  updateTitle();
}

function setCall(state: CallState, text: string, code?: number): void {
  callState = state;
  ui.callState.dataset.state = state;
  if (code === undefined) delete ui.callState.dataset.code;
  else ui.callState.dataset.code = String(code);
  ui.callState.textContent = text;
  ui.incoming.hidden = state !== 'incoming';
  ui.inCall.hidden = state !== 'in-call' && state !== 'connecting';
  updateCallButtons();
  updateTitle();
}

function updateCallButtons(): void {
  const busy = session !== undefined;
  ui.call.disabled = registrationState !== 'registered' || busy;
  ui.hangup.disabled = !busy || callState === 'incoming';
}

/** JsSIP's cause and the status of the response that caused it, if any. */
function outcome(e: { cause?: string; originator?: string; message?: unknown; response?: unknown }): Outcome {
  const msg = (e.message ?? e.response) as { status_code?: number } | null | undefined;
  const status = typeof msg?.status_code === 'number' ? msg.status_code : undefined;
  return { cause: e.cause ?? 'unknown', status, originator: e.originator };
}

// --- registration ---------------------------------------------------------------------------

/** The digest algorithms of the last challenge received (for a sentence when none is MD5). */
let lastChallengeAlgorithms: readonly string[] = [];

/**
 * JsSIP's WebSocket with one change on the way in: a 401/407 keeps its MD5 challenges only
 * (challenge-filter.ts says why). Everything else passes as it is.
 */
class Md5ChallengeSocket implements Socket {
  private readonly inner: Socket;

  constructor(url: string) {
    this.inner = new JsSIP.WebSocketInterface(url);
  }

  get via_transport(): string {
    return this.inner.via_transport;
  }
  set via_transport(value: string) {
    this.inner.via_transport = value;
  }
  get url(): string {
    return this.inner.url;
  }
  get sip_uri(): string {
    return this.inner.sip_uri;
  }
  connect(): void {
    // JsSIP's Transport sets onconnect/ondisconnect/ondata on this object: forward at call time
    this.inner.onconnect = () => this.onconnect();
    this.inner.ondisconnect = (error: boolean, code?: number, reason?: string) => this.ondisconnect(error, code, reason);
    this.inner.ondata = <T>(data: T) => {
      const text = typeof data === 'string' ? data : data instanceof ArrayBuffer ? new TextDecoder().decode(data) : undefined;
      if (text === undefined) return this.ondata(data);
      const filtered = keepMd5Challenges(text);
      if (filtered.offered.length > 0) lastChallengeAlgorithms = filtered.offered;
      this.ondata(filtered.message);
    };
    this.inner.connect();
  }
  disconnect(): void {
    this.inner.disconnect();
  }
  send(message: string | ArrayBufferLike | Blob | ArrayBufferView): boolean {
    return this.inner.send(message);
  }
  isConnected(): boolean {
    return this.inner.isConnected();
  }
  isConnecting(): boolean {
    return this.inner.isConnecting();
  }
  onconnect(): void {}
  ondisconnect(_error: boolean, _code?: number, _reason?: string): void {}
  ondata<T>(_data: T): void {}
}

/**
 * The +sip.instance of this tab (RFC 5626 §4.1): kept in sessionStorage so a reload of the same
 * tab replaces its own binding instead of adding a second one, while two tabs stay two devices.
 */
function instanceId(user: string): string {
  const key = `parley-phone.instance.${user}`;
  let id = sessionStorage.getItem(key);
  if (id === null) {
    id = crypto.randomUUID();
    sessionStorage.setItem(key, id);
  }
  return id;
}

function register(): void {
  clearError();
  let user = ui.username.value.trim();
  let domain = config.domain;
  const at = user.lastIndexOf('@');
  if (at > 0) {
    domain = user.slice(at + 1);
    user = user.slice(0, at);
  }
  if (user === '' || !isValidUser(user)) {
    showError(user === '' ? 'Type a username to register.' : `"${user}" cannot be a username.`);
    ui.username.focus();
    return;
  }
  if (!isValidHost(domain)) {
    showError(`"${domain}" is not a domain name or address.`);
    return;
  }
  if (ui.password.value === '') {
    showError('Type the password to register.');
    ui.password.focus();
    return;
  }
  stopUa();
  aor = `sip:${user}@${uriHost(domain)}`;
  turn = { login: { user: domain === config.domain ? user : `${user}@${domain}`, password: ui.password.value } };
  const displayName = ui.displayName.value.trim();
  const agent = new JsSIP.UA({
    sockets: [new Md5ChallengeSocket(serverUrl)],
    uri: aor,
    authorization_user: user,
    password: ui.password.value,
    ...(displayName === '' ? {} : { display_name: displayName }),
    instance_id: instanceId(`${user}@${domain}`),
    register: true,
    register_expires: 600,
    session_timers: true,
    connection_recovery_min_interval: 2,
    connection_recovery_max_interval: 30,
    user_agent: `Parley phone (JsSIP ${JsSIP.version})`,
  });
  ua = agent;
  // every handler first checks that it belongs to the current UA (an old one may still emit)
  agent.on('connecting', () => {
    if (ua === agent && registrationState !== 'registered') setRegistration('connecting', `Connecting to the server (${serverUrl})…`);
  });
  agent.on('connected', () => {
    if (ua === agent) setRegistration('registering', `Registering as ${user}…`);
  });
  agent.on('disconnected', (e) => {
    if (ua !== agent) return;
    setRegistration('failed', 'Not registered: no connection to the server.');
    showError(disconnectedText(serverUrl, e.code));
  });
  agent.on('registered', () => {
    if (ua !== agent) return;
    clearError();
    setRegistration('registered', `Registered as ${user} (${aor}). Others can call you at ${user}.`);
    // the TURN credentials now, so that a call needs not wait for them
    void refreshTurn();
  });
  agent.on('unregistered', () => {
    // JsSIP says "unregistered" after "disconnected" too: keep saying why
    if (ua === agent && agent.isConnected()) setRegistration('unregistered', 'Not registered.');
  });
  agent.on('registrationFailed', (e) => {
    if (ua !== agent) return;
    const o = outcome(e);
    setRegistration('failed', 'Not registered.');
    const md5 = lastChallengeAlgorithms.length === 0 || lastChallengeAlgorithms.includes('MD5');
    showError(
      o.cause === 'Authentication Error' && !md5
        ? `The server asks for ${lastChallengeAlgorithms.join(' or ')} digest authentication; this phone (JsSIP) can do MD5 only. Add MD5 to auth.algorithms in Parley's configuration.`
        : registrationFailureText(o, serverUrl),
    );
    // a refused password would be refused again: stop, instead of retrying into the server's
    // failure limit; a connection problem is retried by JsSIP itself
    if (o.cause !== 'Connection Error' && o.cause !== 'Request Timeout') stopUa();
  });
  agent.on('newRTCSession', (e: RTCSessionEvent) => {
    if (ua !== agent || e.originator !== 'remote') return;
    if (session !== undefined) {
      // one call at a time: a second caller hears busy
      e.session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
      return;
    }
    incomingCall(e.session);
  });
  setRegistration('connecting', `Connecting to the server (${serverUrl})…`);
  agent.start();
}

/** Stop the current UA (JsSIP un-registers and ends its calls first). */
function stopUa(): void {
  const old = ua;
  ua = undefined;
  turn = undefined;
  if (old !== undefined) old.stop();
  if (session !== undefined) endSession();
}

function unregister(): void {
  clearError();
  stopUa();
  setRegistration('unregistered', 'Not registered.');
}

// --- calls ----------------------------------------------------------------------------------

/** Camera and microphone; audio alone when there is no camera; undefined (and a sentence) when refused. */
async function getMedia(): Promise<MediaStream | undefined> {
  if (navigator.mediaDevices?.getUserMedia === undefined) {
    showError('This browser cannot use a camera or microphone here: open the page over https.');
    return undefined;
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  } catch (e) {
    const name = (e as DOMException).name;
    if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'NotReadableError') {
      try {
        const audio = await navigator.mediaDevices.getUserMedia({ audio: true });
        showError('No camera could be used: the call is audio only.');
        return audio;
      } catch {
        // fall through to the sentence below
      }
    }
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      showError('The browser did not let this page use the camera and microphone. Allow them (the icon in the address bar) and try again.');
    } else {
      showError(`No microphone could be used (${name}).`);
    }
    return undefined;
  }
}

function showLocal(stream: MediaStream): void {
  localStream = stream;
  ui.localVideo.srcObject = stream;
}

/** Remote tracks go to the remote video element as they arrive. */
function watchTracks(pc: RTCPeerConnection): void {
  pc.addEventListener('track', (ev) => {
    const stream = ev.streams[0] ?? new MediaStream([ev.track]);
    if (ui.remoteVideo.srcObject !== stream) ui.remoteVideo.srcObject = stream;
  });
}

/** Fetch TURN credentials for the registered account when there are none or they expire within a minute. */
async function refreshTurn(): Promise<void> {
  const t = turn;
  if (t === undefined || (t.expiresAt !== undefined && t.expiresAt - Date.now() > 60_000)) return;
  const r = await fetchTurnCredentials(t.login.user, t.login.password);
  if (turn !== t) return;
  if (r.ok) {
    t.server = turnIceServer(r.credentials);
    t.expiresAt = r.expiresAt;
  } else if (r.reason === 'off') {
    // no TURN server at Parley: phone.iceServers alone; asked again at the next registration
    t.expiresAt = Number.POSITIVE_INFINITY;
  } else {
    console.warn(`Parley phone: no TURN credentials (${r.detail}); calls use phone.iceServers only`);
  }
}

function pcConfig(): RTCConfiguration {
  const iceServers = turn?.server === undefined ? config.iceServers : [...config.iceServers, turn.server];
  if (iceTransportPolicy === 'relay' && turn?.server === undefined && !iceServers.some((s) => [s.urls].flat().some((u) => u.startsWith('turn')))) {
    showError('This page was opened with ?ice=relay, but there is no TURN server to relay through: the call will have no media.');
  }
  return { iceServers, iceTransportPolicy, rtcpMuxPolicy: 'require', bundlePolicy: 'max-bundle' };
}

async function placeCall(): Promise<void> {
  clearError();
  if (ua === undefined || registrationState !== 'registered' || session !== undefined) return;
  const t = targetToUri(ui.target.value, aor.slice(aor.indexOf('@') + 1));
  if (!t.ok) {
    showError(t.reason);
    ui.target.focus();
    return;
  }
  const agent = ua;
  setCall('calling', `Calling ${t.label}…`);
  ui.call.disabled = true;
  await refreshTurn();
  const stream = await getMedia();
  if (stream === undefined || ua !== agent) {
    stream?.getTracks().forEach((tr) => tr.stop());
    setCall('idle', 'No call.');
    return;
  }
  showLocal(stream);
  peer = t.label;
  ui.remoteCaption.textContent = t.label;
  const s = agent.call(t.uri, {
    mediaStream: stream,
    pcConfig: pcConfig(),
    // receive video even when this side has no camera
    rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: true },
  });
  attachSession(s);
  if (s.connection) watchTracks(s.connection);
  setCall('calling', `Calling ${peer}…`);
}

function incomingCall(s: RTCSession): void {
  const id = s.remote_identity;
  const who = id.display_name ? `${id.display_name} (${id.uri.user ?? id.uri.toString()})` : (id.uri.user ?? id.uri.toString());
  peer = id.display_name || id.uri.user || id.uri.toString();
  ui.remoteCaption.textContent = peer;
  attachSession(s);
  ui.incomingText.textContent = 'Answer turns on your camera and microphone; Reject tells the caller you are busy.';
  setCall('incoming', `${who} is calling you.`);
  ui.answer.focus();
}

/**
 * How long the offer or answer waits for more ICE candidates once the first one is there. JsSIP
 * sends its SDP when ICE gathering completes, and a STUN/TURN server that does not answer holds
 * that for ~40 s (Chromium's STUN retransmissions): the call is placed with the candidates found
 * by then (host ones come at once, server-reflexive and relayed ones within a round trip).
 */
const ICE_GATHERING_WAIT_MS = 2000;

function attachSession(s: RTCSession): void {
  session = s;
  let gathering: number | undefined;
  s.on('icecandidate', (e) => {
    if (gathering === undefined) gathering = window.setTimeout(() => e.ready(), ICE_GATHERING_WAIT_MS);
  });
  // a re-offer (session refresh, renegotiation) gathers again
  s.on('sdp', (e) => {
    if (e.originator === 'local') {
      window.clearTimeout(gathering);
      gathering = undefined;
    }
  });
  s.on('peerconnection', (e) => watchTracks(e.peerconnection));
  s.on('progress', () => {
    if (session === s && s.direction === 'outgoing') setCall('ringing', `Ringing at ${peer}…`);
  });
  s.on('accepted', () => {
    if (session === s) setCall('connecting', `Connecting the call with ${peer}…`);
  });
  s.on('confirmed', () => {
    if (session !== s) return;
    // the duration ticks in its own line, outside the live region (a screen reader announces
    // the state once, not every second)
    const started = Date.now();
    const tick = (): void => {
      ui.callTimer.textContent = `Duration ${formatDuration((Date.now() - started) / 1000)}`;
    };
    setCall('in-call', `In a call with ${peer}.`);
    tick();
    ui.callTimer.hidden = false;
    window.clearInterval(callTimer);
    callTimer = window.setInterval(tick, 1000);
    startStats(s);
  });
  s.on('ended', (e) => {
    if (session !== s) return;
    const o = outcome(e);
    endSession();
    setCall('ended', `Call ended. ${callEndText(o, peer)}`);
  });
  s.on('failed', (e) => {
    if (session !== s) return;
    const o = outcome(e);
    endSession();
    const text = callFailureText(o, peer);
    // a call this side cancelled or rejected is not an error
    const byUs = o.originator === 'local' && (o.cause === 'Canceled' || o.cause === 'Rejected');
    if (!byUs) showError(text);
    setCall(byUs ? 'ended' : 'failed', byUs ? text : `No call: ${text}`, o.status);
  });
  s.on('newDTMF', (e: IncomingDTMFEvent | OutgoingDTMFEvent) => {
    if (session !== s) return;
    if (e.originator === 'remote') ui.dtmfReceived.value += e.dtmf.tone;
  });
  s.on('getusermediafailed', () => showError('The browser did not let this page use the camera and microphone.'));
}

function endSession(): void {
  session = undefined;
  window.clearInterval(callTimer);
  window.clearInterval(statsTimer);
  callTimer = undefined;
  statsTimer = undefined;
  ui.callTimer.hidden = true;
  ui.callTimer.textContent = '';
  localStream?.getTracks().forEach((t) => t.stop());
  localStream = undefined;
  ui.localVideo.srcObject = null;
  ui.remoteVideo.srcObject = null;
  ui.remoteCaption.textContent = 'The other side';
  ui.mediaState.textContent = '';
  for (const b of [ui.muteAudio, ui.muteVideo]) b.setAttribute('aria-pressed', 'false');
  ui.muteAudio.textContent = 'Mute microphone';
  ui.muteVideo.textContent = 'Stop camera';
  ui.dtmfSent.value = '';
  ui.dtmfReceived.value = '';
  updateCallButtons();
}

async function answer(): Promise<void> {
  const s = session;
  if (s === undefined || callState !== 'incoming') return;
  clearError();
  ui.answer.disabled = true;
  const stream = await getMedia();
  ui.answer.disabled = false;
  if (session !== s) {
    stream?.getTracks().forEach((t) => t.stop());
    return;
  }
  if (stream === undefined) {
    s.terminate({ status_code: 488, reason_phrase: 'No Media Available' });
    return;
  }
  showLocal(stream);
  setCall('connecting', `Connecting the call with ${peer}…`);
  await refreshTurn();
  if (session !== s) {
    stream.getTracks().forEach((t) => t.stop());
    return;
  }
  s.answer({ mediaStream: stream, pcConfig: pcConfig() });
}

function reject(): void {
  // 486 Busy Here: the caller hears "busy", as from a phone that is declined (RFC 3261 §21.4.24)
  if (session !== undefined && callState === 'incoming') session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
}

function hangup(): void {
  // before an answer this is a CANCEL, after it a BYE (JsSIP chooses)
  if (session !== undefined) session.terminate();
}

function toggleMute(kind: 'audio' | 'video'): void {
  if (session === undefined) return;
  const button = kind === 'audio' ? ui.muteAudio : ui.muteVideo;
  const muted = button.getAttribute('aria-pressed') === 'true';
  if (muted) session.unmute({ [kind]: true });
  else session.mute({ [kind]: true });
  button.setAttribute('aria-pressed', String(!muted));
  button.textContent = kind === 'audio' ? (muted ? 'Mute microphone' : 'Unmute microphone') : muted ? 'Stop camera' : 'Start camera';
}

function sendDtmf(tone: string): void {
  if (session === undefined || !session.isEstablished()) return;
  // SIP INFO (application/dtmf-relay), JsSIP's default: visible in the signalling, through the proxy
  session.sendDTMF(tone);
  ui.dtmfSent.value += tone;
}

/** Packets received and sent, once a second: a person sees that media flows. */
function startStats(s: RTCSession): void {
  window.clearInterval(statsTimer);
  statsTimer = window.setInterval(() => {
    const pc = s.connection;
    if (pc === undefined || pc === null || session !== s) return;
    void pc.getStats().then((report) => {
      const got: Record<string, number> = {};
      const sent: Record<string, number> = {};
      report.forEach((r: { type: string; kind?: string; packetsReceived?: number; packetsSent?: number }) => {
        if (r.type === 'inbound-rtp' && r.kind) got[r.kind] = (got[r.kind] ?? 0) + (r.packetsReceived ?? 0);
        if (r.type === 'outbound-rtp' && r.kind) sent[r.kind] = (sent[r.kind] ?? 0) + (r.packetsSent ?? 0);
      });
      const fmt = (m: Record<string, number>): string => ['audio', 'video'].filter((k) => k in m).map((k) => `${k} ${m[k]}`).join(', ') || 'nothing';
      if (session === s) ui.mediaState.textContent = `Packets received: ${fmt(got)}. Packets sent: ${fmt(sent)}.`;
    });
  }, 1000);
}

// --- start-up -------------------------------------------------------------------------------

async function loadConfig(): Promise<void> {
  try {
    const r = await fetch('/phone/config.json', { cache: 'no-store' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const c = (await r.json()) as Partial<PhoneConfig>;
    config = {
      domain: typeof c.domain === 'string' && c.domain !== '' ? c.domain : location.hostname,
      iceServers: Array.isArray(c.iceServers) ? c.iceServers : [],
    };
    if (typeof c.wsPath === 'string' && c.wsPath.startsWith('/')) serverUrl = wsUrl(c.wsPath);
  } catch (e) {
    showError(`Cannot reach the server at ${location.origin} to read the phone's settings (${(e as Error).message}). Reload the page when Parley runs.`);
  }
  ui.domain.textContent = config.domain;
  ui.server.textContent = serverUrl;
}

async function main(): Promise<void> {
  const params = parsePhoneParams(location.search, location.hash);
  iceTransportPolicy = params.iceTransportPolicy;
  // the password stays in memory only: off the address bar and out of the history entry
  if (params.password !== '' || location.hash.includes('password')) {
    history.replaceState(history.state, '', location.pathname + location.search + hashWithoutPassword(location.hash));
  }
  if (new URLSearchParams(location.search).has('debug')) JsSIP.debug.enable('JsSIP:*');
  ui.username.value = params.username;
  ui.displayName.value = params.displayName;
  ui.target.value = params.target;
  ui.password.value = params.password;
  ui.version.textContent = `JsSIP ${JsSIP.version}`;

  ui.registerForm.addEventListener('submit', (e) => {
    e.preventDefault();
    register();
  });
  ui.unregister.addEventListener('click', unregister);
  ui.callForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void placeCall();
  });
  ui.hangup.addEventListener('click', hangup);
  ui.answer.addEventListener('click', () => void answer());
  ui.reject.addEventListener('click', reject);
  ui.muteAudio.addEventListener('click', () => toggleMute('audio'));
  ui.muteVideo.addEventListener('click', () => toggleMute('video'));
  for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-tone]')) {
    b.addEventListener('click', () => sendDtmf(b.dataset.tone!));
  }
  // closing the tab ends a call with a BYE; the registration goes with the WebSocket (the
  // server removes a binding when the connection it came over closes, RFC 5626)
  window.addEventListener('pagehide', () => ua?.terminateSessions());

  setRegistration('unregistered', 'Not registered.');
  setCall('idle', 'No call.');
  await loadConfig();
  if (params.passwordInQuery) {
    showError('The link had a password in its query string (?password=): it was ignored, because the server and every proxy on the way log query strings. Type the password, or put it after # (#password=…) in links you make for tests.');
  }
  if (params.autoRegister) {
    if (params.username === '') ui.username.focus();
    else if (params.password === '') {
      setRegistration('unregistered', `Type ${params.username}'s password to register.`);
      ui.password.focus();
    } else register();
  } else if (params.username !== '' && params.password === '') {
    ui.password.focus();
  }
}

/** For tests and for people debugging in the console. */
declare global {
  interface Window {
    parleyPhone: {
      readonly registrationState: RegistrationState;
      readonly callState: CallState;
      /** The RTCPeerConnection of the current call (getStats()). */
      readonly peerConnection: RTCPeerConnection | undefined;
    };
  }
}
window.parleyPhone = {
  get registrationState() {
    return registrationState;
  },
  get callState() {
    return callState;
  },
  get peerConnection() {
    return session?.connection ?? undefined;
  },
};

void main();
