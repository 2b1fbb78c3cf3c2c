/**
 * The Parley phone: a page a person opens at https://<server>/phone to register, call, answer,
 * reject, hang up, mute, hold and send DTMF, with JsSIP over the same origin's WebSocket (`/sip`,
 * RFC 7118) and WebRTC for the media. Bundled by scripts/build-web.mjs (esbuild) into
 * dist/web/phone/phone.js; no CDN.
 *
 * Idle, the page is the account (one line once registered), the dial field, the recent calls and
 * the device choice. From the moment a call rings until it ends, `#call-view` takes the whole
 * viewport: the other side's video (or, when the other side sends none, its name and the call's
 * duration), the self-view as picture-in-picture and one bar of controls.
 *
 * (ws:// when the page itself is plain http, which browsers allow for localhost.)
 *
 * What tests and people read: `#registration-state` and `#call-state` (a sentence each, and a
 * stable `data-state`), `#error` (a sentence), `data-testid` on every control, `#call-view`'s
 * `data-active` and `data-media` (`video`, `audio`, `none`), `body[data-ringing]` (`ringtone`,
 * `ringback`) and `window.parleyPhone` (the current RTCPeerConnection, for getStats(); the ringer).
 */
import * as JsSIP from 'jssip';
import type { IncomingDTMFEvent, OutgoingDTMFEvent, RTCSession } from 'jssip/lib/RTCSession';
import type { Socket } from 'jssip/lib/Socket';
import type { RTCSessionEvent, UA } from 'jssip/lib/UA';
import { keepMd5Challenges } from './challenge-filter.js';
import { addToHistory, describeEntry, outcomeOf, readHistory, type Direction, type HistoryEntry } from './history.js';
import { callEndText, callFailureText, disconnectedText, formatDuration, registrationFailureText, type Outcome } from './messages.js';
import { hashWithoutPassword, isValidHost, isValidUser, parsePhoneParams, targetToUri, uriHost, type DtmfMode } from './params.js';
import { Ringer, type RingKind } from './ringer.js';
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
  registrationState: $<HTMLSpanElement>('registration-state'),
  accountUser: $<HTMLElement>('account-user'),
  accountSep: $<HTMLElement>('account-sep'),
  accountChange: $<HTMLButtonElement>('account-change'),
  accountChangeSep: $<HTMLElement>('account-change-sep'),
  callForm: $<HTMLFormElement>('call-form'),
  target: $<HTMLInputElement>('target'),
  call: $<HTMLButtonElement>('call'),
  hangup: $<HTMLButtonElement>('hangup'),
  callView: $<HTMLElement>('call-view'),
  callState: $<HTMLParagraphElement>('call-state'),
  peerName: $<HTMLParagraphElement>('peer-name'),
  peerInitial: $<HTMLDivElement>('peer-initial'),
  audioOnly: $<HTMLDivElement>('audio-only'),
  callTimer: $<HTMLParagraphElement>('call-timer'),
  incoming: $<HTMLDivElement>('incoming'),
  incomingText: $<HTMLParagraphElement>('incoming-text'),
  answer: $<HTMLButtonElement>('answer'),
  reject: $<HTMLButtonElement>('reject'),
  inCall: $<HTMLDivElement>('in-call'),
  muteAudio: $<HTMLButtonElement>('mute-audio'),
  muteVideo: $<HTMLButtonElement>('mute-video'),
  hold: $<HTMLButtonElement>('hold'),
  keypadToggle: $<HTMLButtonElement>('keypad-toggle'),
  keypad: $<HTMLDivElement>('keypad'),
  dtmfSent: $<HTMLOutputElement>('dtmf-sent'),
  dtmfReceived: $<HTMLOutputElement>('dtmf-received'),
  remoteVideo: $<HTMLVideoElement>('remote-video'),
  localVideo: $<HTMLVideoElement>('local-video'),
  mediaState: $<HTMLParagraphElement>('media-state'),
  history: $<HTMLOListElement>('history'),
  historyEmpty: $<HTMLParagraphElement>('history-empty'),
  cameraSelect: $<HTMLSelectElement>('camera-select'),
  microphoneSelect: $<HTMLSelectElement>('microphone-select'),
  devicesToggle: $<HTMLButtonElement>('devices-toggle'),
  callDevices: $<HTMLDivElement>('call-devices'),
  callCameraSelect: $<HTMLSelectElement>('call-camera-select'),
  callMicrophoneSelect: $<HTMLSelectElement>('call-microphone-select'),
  devicesHint: $<HTMLParagraphElement>('devices-hint'),
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
/** How the keypad sends tones (`?dtmf=info`: SIP INFO). RFC 4733 falls back to INFO when the call negotiated no telephone-event. */
let dtmfMode: DtmfMode = 'rfc4733';
/** The current call as the history will record it. */
let record: { who: string; uri: string; direction: Direction; at: number; answeredAt?: number } | undefined;
/** Who put the call on hold: this side, the other, both. */
let hold = { local: false, remote: false };
const ringer = new Ringer();
/** The registered user's name, for the account line ("alice · registered · change"). */
let accountName = '';

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

/**
 * The account line: the state sentence while not registered (the form below it), and once
 * registered one line, "alice · registered · change", the form folded away until "change".
 */
function setRegistration(state: RegistrationState, text: string, title = ''): void {
  registrationState = state;
  ui.registrationState.dataset.state = state;
  const registered = state === 'registered';
  ui.registrationState.textContent = registered ? 'registered' : text;
  ui.registrationState.title = registered ? text : '';
  ui.accountUser.textContent = registered ? accountName : '';
  for (const el of [ui.accountUser, ui.accountSep, ui.accountChange, ui.accountChangeSep]) el.hidden = !registered;
  ui.registerForm.hidden = registered && ui.accountChange.getAttribute('aria-expanded') !== 'true';
  if (title !== '') ui.registrationState.title = title;
  const active = state !== 'unregistered' && state !== 'failed';
  ui.unregister.disabled = !active;
  updateCallButtons();
  updateTitle();
}

/** "change": the form again (to register as someone else, or unregister); "change" again folds it. */
function toggleAccountForm(): void {
  const open = ui.accountChange.getAttribute('aria-expanded') !== 'true';
  ui.accountChange.setAttribute('aria-expanded', String(open));
  ui.registerForm.hidden = !open;
  if (open) ui.username.focus();
}

/** States in which the call takes the whole viewport. */
const ACTIVE: ReadonlySet<CallState> = new Set(['calling', 'ringing', 'incoming', 'connecting', 'in-call']);

function setCall(state: CallState, text: string, code?: number): void {
  callState = state;
  ui.callState.dataset.state = state;
  if (code === undefined) delete ui.callState.dataset.code;
  else ui.callState.dataset.code = String(code);
  ui.callState.textContent = text;
  const active = ACTIVE.has(state);
  ui.callView.dataset.active = String(active);
  if (active) document.body.dataset.callActive = '';
  else delete document.body.dataset.callActive;
  ui.incoming.hidden = state !== 'incoming';
  ui.inCall.hidden = !active || state === 'incoming';
  // hold and the keypad need an established dialog
  ui.hold.disabled = state !== 'in-call';
  ui.keypadToggle.disabled = state !== 'in-call';
  if (state !== 'in-call') setKeypad(false);
  if (!active || state === 'incoming') setDevicesPanel(false);
  ui.devicesToggle.hidden = !active || state === 'incoming';
  // ringtone while someone calls; ringback from the 180 until the answer (progress())
  if (state === 'incoming') ring('ringtone');
  else if (state !== 'ringing') ring(undefined);
  updateMediaView();
  updateCallButtons();
  updateTitle();
}

function ring(kind: RingKind | undefined): void {
  if (kind === undefined) {
    ringer.stop();
    delete document.body.dataset.ringing;
  } else {
    ringer.start(kind);
    document.body.dataset.ringing = kind;
  }
}

function updateCallButtons(): void {
  const busy = session !== undefined;
  ui.call.disabled = registrationState !== 'registered' || busy;
  ui.hangup.disabled = !busy || callState === 'incoming';
  for (const b of ui.history.querySelectorAll<HTMLButtonElement>('button')) b.disabled = ui.call.disabled;
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
    accountName = user;
    ui.accountChange.setAttribute('aria-expanded', 'false');
    setRegistration('registered', `Registered as ${user} (${aor}). Others can call you at ${user}.`);
    renderHistory();
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

// --- devices --------------------------------------------------------------------------------

const DEVICE_KEY = { audio: 'parley-phone.microphone', video: 'parley-phone.camera' } as const;

function chosenDevice(kind: 'audio' | 'video'): string {
  try {
    return localStorage.getItem(DEVICE_KEY[kind]) ?? '';
  } catch {
    return '';
  }
}

/** What getUserMedia is asked for one kind: the chosen device when there is one. */
function constraint(kind: 'audio' | 'video'): MediaTrackConstraints | true {
  const id = chosenDevice(kind);
  return id === '' ? true : { deviceId: { exact: id } };
}

/** Fill the two lists from enumerateDevices() (names come once the page has been allowed the devices). */
async function listDevices(): Promise<void> {
  if (navigator.mediaDevices?.enumerateDevices === undefined) return;
  let devices: MediaDeviceInfo[];
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    return;
  }
  let named = false;
  // the same lists on the page and in the call's panel
  for (const [select, kind, deviceKind, fallback] of [
    [ui.cameraSelect, 'video', 'videoinput', 'Camera'],
    [ui.microphoneSelect, 'audio', 'audioinput', 'Microphone'],
    [ui.callCameraSelect, 'video', 'videoinput', 'Camera'],
    [ui.callMicrophoneSelect, 'audio', 'audioinput', 'Microphone'],
  ] as const) {
    const chosen = chosenDevice(kind);
    const options = [new Option(`Default ${fallback.toLowerCase()}`, '')];
    let n = 0;
    for (const d of devices) {
      if (d.kind !== deviceKind || d.deviceId === '' || d.deviceId === 'default') continue;
      n += 1;
      if (d.label !== '') named = true;
      options.push(new Option(d.label || `${fallback} ${n}`, d.deviceId));
    }
    select.replaceChildren(...options);
    select.value = options.some((o) => o.value === chosen) ? chosen : '';
  }
  ui.devicesHint.hidden = named;
}

/**
 * A device chosen: remembered for the next calls, and in a call the track is swapped for one from
 * the new device (RTCRtpSender.replaceTrack: no renegotiation).
 */
async function chooseDevice(kind: 'audio' | 'video', deviceId: string): Promise<void> {
  try {
    if (deviceId === '') localStorage.removeItem(DEVICE_KEY[kind]);
    else localStorage.setItem(DEVICE_KEY[kind], deviceId);
  } catch {
    // storage refused: the choice holds for this call only
  }
  for (const select of kind === 'audio' ? [ui.microphoneSelect, ui.callMicrophoneSelect] : [ui.cameraSelect, ui.callCameraSelect]) select.value = deviceId;
  const pc = session?.connection;
  const stream = localStream;
  const old = stream?.getTracks().find((t) => t.kind === kind);
  if (pc === undefined || pc === null || stream === undefined || old === undefined) return;
  let track: MediaStreamTrack | undefined;
  try {
    const fresh = await navigator.mediaDevices.getUserMedia({ [kind]: constraint(kind) });
    track = fresh.getTracks()[0];
  } catch (e) {
    showError(`That ${kind === 'audio' ? 'microphone' : 'camera'} could not be used (${(e as DOMException).name}).`);
    return;
  }
  if (track === undefined) return;
  if (localStream !== stream) {
    track.stop();
    return;
  }
  track.enabled = old.enabled;
  const sender = pc.getSenders().find((x) => x.track === old);
  await sender?.replaceTrack(track);
  stream.removeTrack(old);
  old.stop();
  stream.addTrack(track);
  ui.localVideo.srcObject = stream;
}

// --- calls ----------------------------------------------------------------------------------

/** Camera and microphone; audio alone when there is no camera; undefined (and a sentence) when refused. */
async function getMedia(): Promise<MediaStream | undefined> {
  if (navigator.mediaDevices?.getUserMedia === undefined) {
    showError('This browser cannot use a camera or microphone here: open the page over https.');
    return undefined;
  }
  const ask = async (video: boolean): Promise<MediaStream> => {
    const want = { audio: constraint('audio'), video: video ? constraint('video') : false };
    try {
      return await navigator.mediaDevices.getUserMedia(want);
    } catch (e) {
      // a chosen device that is gone: the default one instead
      if ((e as DOMException).name !== 'OverconstrainedError') throw e;
      return navigator.mediaDevices.getUserMedia({ audio: true, video });
    }
  };
  try {
    const stream = await ask(true);
    void listDevices();
    return stream;
  } catch (e) {
    const name = (e as DOMException).name;
    if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'NotReadableError') {
      try {
        const audio = await ask(false);
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
  updateMediaView();
}

/** Remote tracks go to the remote video element as they arrive; the view follows whether video comes. */
function watchTracks(pc: RTCPeerConnection): void {
  pc.addEventListener('track', (ev) => {
    const stream = ev.streams[0] ?? new MediaStream([ev.track]);
    if (ui.remoteVideo.srcObject !== stream) ui.remoteVideo.srcObject = stream;
    // a remote track is muted until its first packet, and again when packets stop (hold)
    ev.track.addEventListener('mute', updateMediaView);
    ev.track.addEventListener('unmute', updateMediaView);
    updateMediaView();
  });
  pc.addEventListener('signalingstatechange', updateMediaView);
}

/** Whether the negotiated call carries video in `dir` ('recv': the other side sends it; 'send': we do). */
function negotiatedVideo(pc: RTCPeerConnection, dir: 'recv' | 'send'): boolean {
  return pc.getTransceivers().some((t) => t.receiver.track.kind === 'video' && t.currentDirection !== null && t.currentDirection !== 'stopped' &&
    (t.currentDirection === 'sendrecv' || t.currentDirection === (dir === 'recv' ? 'recvonly' : 'sendonly')));
}

/**
 * Video or the audio card: the other side's video fills the view once its pictures arrive; until
 * then, and for a call without video (a SIP phone), its name and the call's duration. The
 * self-view shows while this side's camera goes out (or may: before the answer).
 */
function updateMediaView(): void {
  const pc = session?.connection ?? undefined;
  const answered = pc !== undefined && pc.signalingState === 'stable' && pc.currentRemoteDescription !== null;
  const remoteTrack = (ui.remoteVideo.srcObject as MediaStream | null)?.getVideoTracks()[0];
  const remoteVideo = answered && negotiatedVideo(pc, 'recv') && remoteTrack !== undefined && !remoteTrack.muted && ui.remoteVideo.videoWidth > 0;
  const mode = !ACTIVE.has(callState) ? 'none' : remoteVideo ? 'video' : 'audio';
  ui.callView.dataset.media = mode;
  ui.audioOnly.hidden = mode !== 'audio';
  const camera = localStream?.getVideoTracks().some((t) => t.readyState === 'live') ?? false;
  const sending = camera && !(answered && !negotiatedVideo(pc, 'send'));
  ui.localVideo.hidden = mode === 'none' || !sending;
  // no camera button in a call that carries no video of ours
  ui.muteVideo.hidden = !sending;
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
  ringer.unlock();
  peer = t.label;
  showPeer(t.label);
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
  // receive video even when this side has no camera (with a camera the video transceiver is
  // sendrecv already; the legacy `offerToReceiveVideo: false` would make it sendonly). JsSIP keeps
  // this object for its re-offers (hold, resume): once the answer is in, the option goes unless
  // the other side took the video, or a re-offer to a SIP phone would add an m-line that the
  // phone's answer lacks.
  const offerConstraints: { offerToReceiveAudio: boolean; offerToReceiveVideo?: boolean } = { offerToReceiveAudio: true };
  if (stream.getVideoTracks().length === 0) offerConstraints.offerToReceiveVideo = true;
  const s = agent.call(t.uri, { mediaStream: stream, pcConfig: pcConfig(), rtcOfferConstraints: offerConstraints });
  s.on('confirmed', () => {
    if (s.connection && !negotiatedVideo(s.connection, 'recv')) delete offerConstraints.offerToReceiveVideo;
  });
  record = { who: t.label, uri: t.uri, direction: 'outgoing', at: Date.now() };
  attachSession(s);
  if (s.connection) watchTracks(s.connection);
  setCall('calling', `Calling ${peer}…`);
  ui.hangup.focus();
}

/** The other side's name on the audio card (and its first letter as the avatar). */
function showPeer(name: string): void {
  ui.peerName.textContent = name;
  ui.peerInitial.textContent = [...name.trim()][0] ?? '?';
}

function incomingCall(s: RTCSession): void {
  const id = s.remote_identity;
  const who = id.display_name ? `${id.display_name} (${id.uri.user ?? id.uri.toString()})` : (id.uri.user ?? id.uri.toString());
  peer = id.display_name || id.uri.user || id.uri.toString();
  showPeer(peer);
  record = { who: peer, uri: id.uri.toString(), direction: 'incoming', at: Date.now() };
  attachSession(s);
  ui.incomingText.textContent = 'Answer turns on your camera and microphone; Decline tells the caller you are busy.';
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
  hold = { local: false, remote: false };
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
  s.on('progress', (e: { response?: unknown }) => {
    if (session !== s || s.direction !== 'outgoing') return;
    setCall('ringing', `Ringing at ${peer}…`);
    // ringback, unless the other side plays its own (early media: a 183 with an answer)
    const body = (e.response as { body?: string } | undefined)?.body;
    ring(typeof body === 'string' && body.length > 0 ? undefined : 'ringback');
  });
  s.on('accepted', () => {
    if (session === s) setCall('connecting', `Connecting the call with ${peer}…`);
  });
  s.on('confirmed', () => {
    if (session !== s) return;
    // the duration ticks in its own line, outside the live region (a screen reader announces
    // the state once, not every second)
    const started = Date.now();
    if (record !== undefined) record.answeredAt = started;
    const tick = (): void => {
      ui.callTimer.textContent = formatDuration((Date.now() - started) / 1000);
    };
    setCall('in-call', inCallText());
    tick();
    ui.callTimer.hidden = false;
    window.clearInterval(callTimer);
    callTimer = window.setInterval(tick, 1000);
    startStats(s);
  });
  s.on('hold', (e) => {
    if (session !== s) return;
    hold[e.originator === 'local' ? 'local' : 'remote'] = true;
    showHold();
  });
  s.on('unhold', (e) => {
    if (session !== s) return;
    hold[e.originator === 'local' ? 'local' : 'remote'] = false;
    showHold();
  });
  s.on('ended', (e) => {
    if (session !== s) return;
    const o = outcome(e);
    remember(o);
    endSession();
    setCall('ended', `Call ended. ${callEndText(o, peer)}`);
  });
  s.on('failed', (e) => {
    if (session !== s) return;
    const o = outcome(e);
    remember(o);
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
  // what the browser said when an offer or answer was refused: in the console, for whoever debugs
  for (const ev of ['peerconnection:createofferfailed', 'peerconnection:createanswerfailed', 'peerconnection:setlocaldescriptionfailed', 'peerconnection:setremotedescriptionfailed'] as const) {
    s.on(ev, (e: unknown) => console.warn(`Parley phone: ${ev.slice('peerconnection:'.length)}: ${String((e as Error | undefined)?.message ?? e)}`));
  }
}

function inCallText(): string {
  if (hold.local && hold.remote) return `On hold: you and ${peer} both put the call on hold.`;
  if (hold.local) return `On hold: you put ${peer} on hold.`;
  if (hold.remote) return `On hold: ${peer} put you on hold.`;
  return `In a call with ${peer}.`;
}

function showHold(): void {
  ui.hold.setAttribute('aria-pressed', String(hold.local));
  ui.hold.setAttribute('aria-label', hold.local ? 'Resume' : 'Hold');
  ui.hold.querySelector('.caption')!.textContent = hold.local ? 'Resume' : 'Hold';
  if (hold.local || hold.remote) ui.callView.dataset.hold = hold.local ? (hold.remote ? 'both' : 'local') : 'remote';
  else delete ui.callView.dataset.hold;
  if (callState === 'in-call') setCall('in-call', inCallText());
}

/** The call just ended goes into the history (newest first, the last 20). */
function remember(o: Outcome): void {
  const r = record;
  record = undefined;
  if (r === undefined || aor === '') return;
  const answered = r.answeredAt !== undefined;
  const entry: HistoryEntry = {
    who: r.who, uri: r.uri, direction: r.direction, at: r.at,
    duration: answered ? Math.round((Date.now() - r.answeredAt!) / 1000) : 0,
    outcome: outcomeOf({ answered, direction: r.direction, cause: o.cause, status: o.status, originator: o.originator }),
  };
  addToHistory(localStorage, aor, entry);
  renderHistory();
}

/** Whose history shows: the registered account, else the one typed or given in the link. */
function historyAor(): string {
  if (aor !== '') return aor;
  const user = ui.username.value.trim();
  if (user === '') return '';
  return user.includes('@') ? `sip:${user}` : `sip:${user}@${uriHost(config.domain)}`;
}

function renderHistory(): void {
  const whose = historyAor();
  const list = whose === '' ? [] : readHistory(localStorage, whose);
  const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
  ui.history.replaceChildren(
    ...list.map((e) => {
      const li = document.createElement('li');
      li.dataset.testid = 'history-entry';
      const entry = document.createElement('div');
      entry.className = 'entry';
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = e.who;
      const what = document.createElement('span');
      what.className = 'what hint';
      what.dataset.outcome = e.outcome;
      const time = document.createElement('time');
      time.dateTime = new Date(e.at).toISOString();
      time.textContent = when.format(e.at);
      what.append(`${describeEntry(e, formatDuration)} · `, time);
      entry.append(who, what);
      const again = document.createElement('button');
      again.type = 'button';
      again.textContent = 'Call again';
      again.setAttribute('aria-label', `Call ${e.who} again`);
      again.dataset.testid = 'call-again';
      again.disabled = ui.call.disabled;
      again.addEventListener('click', () => {
        ui.target.value = e.uri;
        void placeCall();
      });
      li.append(entry, again);
      return li;
    }),
  );
  ui.historyEmpty.hidden = list.length > 0;
}

function endSession(): void {
  session = undefined;
  hold = { local: false, remote: false };
  ring(undefined);
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
  ui.mediaState.textContent = '';
  for (const b of [ui.muteAudio, ui.muteVideo, ui.hold]) b.setAttribute('aria-pressed', 'false');
  setMuteLabels();
  showHold();
  ui.dtmfSent.value = '';
  ui.dtmfReceived.value = '';
  updateCallButtons();
}

async function answer(): Promise<void> {
  const s = session;
  if (s === undefined || callState !== 'incoming') return;
  clearError();
  ring(undefined);
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
  ui.hangup.focus();
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

function setMuteLabels(): void {
  const audio = ui.muteAudio.getAttribute('aria-pressed') === 'true';
  const video = ui.muteVideo.getAttribute('aria-pressed') === 'true';
  ui.muteAudio.setAttribute('aria-label', audio ? 'Unmute microphone' : 'Mute microphone');
  ui.muteAudio.querySelector('.caption')!.textContent = audio ? 'Unmute' : 'Mute';
  ui.muteVideo.setAttribute('aria-label', video ? 'Start camera' : 'Stop camera');
  ui.muteVideo.querySelector('.caption')!.textContent = video ? 'Camera on' : 'Camera';
}

function toggleMute(kind: 'audio' | 'video'): void {
  if (session === undefined) return;
  const button = kind === 'audio' ? ui.muteAudio : ui.muteVideo;
  const muted = button.getAttribute('aria-pressed') === 'true';
  if (muted) session.unmute({ [kind]: true });
  else session.mute({ [kind]: true });
  button.setAttribute('aria-pressed', String(!muted));
  setMuteLabels();
}

/** Hold: JsSIP re-offers with a=sendonly (RFC 3264 §8.4); resume re-offers with a=sendrecv. */
function toggleHold(): void {
  const s = session;
  if (s === undefined || callState !== 'in-call') return;
  const done = (): void => {
    // JsSIP says "hold"/"unhold" when it sends the re-INVITE; this is its answer
    if (session === s) showHold();
  };
  const ok = hold.local ? s.unhold({}, done) : s.hold({}, done);
  if (!ok) showError('The call cannot be put on hold or resumed right now (a renegotiation is under way); try again in a moment.');
}

/** The device lists in the call (the page's own are under the call view). */
function setDevicesPanel(open: boolean): void {
  ui.callDevices.hidden = !open;
  ui.devicesToggle.setAttribute('aria-expanded', String(open));
  if (open) void listDevices();
}

function setKeypad(open: boolean): void {
  ui.keypad.hidden = !open;
  ui.keypadToggle.setAttribute('aria-expanded', String(open));
}

/** The audio sender's RTCDTMFSender when the call negotiated telephone-event (RFC 4733). */
function dtmfSender(): RTCDTMFSender | undefined {
  const pc = session?.connection;
  const sender = pc?.getSenders().find((x) => x.track?.kind === 'audio');
  return sender?.dtmf?.canInsertDTMF ? sender.dtmf : undefined;
}

function sendDtmf(tone: string): void {
  if (session === undefined || !session.isEstablished()) return;
  const rfc4733 = dtmfMode === 'rfc4733' ? dtmfSender() : undefined;
  if (rfc4733 !== undefined) {
    // RFC 4733 telephone-events in the audio stream (the browser's RTCDTMFSender); the tone is
    // shown as sent when the sender starts playing it (its tonechange event)
    if (!watchedDtmf.has(rfc4733)) {
      watchedDtmf.add(rfc4733);
      rfc4733.addEventListener('tonechange', (e) => {
        if (e.tone !== '' && dtmfSender() === rfc4733) ui.dtmfSent.value += e.tone;
      });
    }
    session.sendDTMF(tone, { transportType: JsSIP.C.DTMF_TRANSPORT.RFC2833 });
    return;
  }
  // SIP INFO (application/dtmf-relay): asked for with ?dtmf=info, or the call has no telephone-event
  session.sendDTMF(tone);
  ui.dtmfSent.value += tone;
}
const watchedDtmf = new WeakSet<RTCDTMFSender>();

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
  dtmfMode = params.dtmf;
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
  ui.hold.addEventListener('click', toggleHold);
  ui.keypadToggle.addEventListener('click', () => setKeypad(ui.keypad.hidden));
  ui.accountChange.addEventListener('click', toggleAccountForm);
  for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-tone]')) {
    b.addEventListener('click', () => sendDtmf(b.dataset.tone!));
  }
  // the keypad answers the keyboard's digits too while it is open
  document.addEventListener('keydown', (e) => {
    if (ui.keypad.hidden || e.ctrlKey || e.metaKey || e.altKey || (e.target as HTMLElement | null)?.tagName === 'INPUT') return;
    if (e.key === 'Escape') setKeypad(false);
    else if (e.key.length === 1 && '0123456789*#'.includes(e.key)) sendDtmf(e.key);
  });
  ui.remoteVideo.addEventListener('resize', updateMediaView);
  ui.remoteVideo.addEventListener('loadeddata', updateMediaView);
  ui.cameraSelect.addEventListener('change', () => void chooseDevice('video', ui.cameraSelect.value));
  ui.microphoneSelect.addEventListener('change', () => void chooseDevice('audio', ui.microphoneSelect.value));
  ui.callCameraSelect.addEventListener('change', () => void chooseDevice('video', ui.callCameraSelect.value));
  ui.callMicrophoneSelect.addEventListener('change', () => void chooseDevice('audio', ui.callMicrophoneSelect.value));
  ui.devicesToggle.addEventListener('click', () => setDevicesPanel(ui.callDevices.hidden));
  navigator.mediaDevices?.addEventListener?.('devicechange', () => void listDevices());
  void listDevices();
  // browsers let a page make sound once a person has interacted with it: the first click or key
  // press readies the ringtone for calls that come later
  for (const ev of ['pointerdown', 'keydown'] as const) document.addEventListener(ev, () => ringer.unlock(), { once: true, capture: true });
  // closing the tab ends a call with a BYE; the registration goes with the WebSocket (the
  // server removes a binding when the connection it came over closes, RFC 5626)
  window.addEventListener('pagehide', () => ua?.terminateSessions());

  setRegistration('unregistered', 'Not registered.');
  setCall('idle', 'No call.');
  await loadConfig();
  renderHistory();
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
      /** What rings (ringtone, ringback) and whether its AudioContext is running. */
      readonly ringer: { readonly kind: RingKind | undefined; readonly audioState: string };
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
  ringer,
};

void main();
