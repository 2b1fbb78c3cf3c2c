/**
 * The ICE check page (/ice): what `parley turn-check` does, in the browser. The person gives a
 * stun:/turn:/turns: URL and credentials, or logs in with their SIP account to use Parley's own
 * TURN server (credentials from POST /phone/turn-credentials); the page gathers candidates with an
 * RTCPeerConnection (iceTransportPolicy "relay", or "all" to see host and server-reflexive ones
 * too), lists them as they come, and, when no relayed candidate comes, says why from the browser's
 * icecandidateerror events and the timeout. Bundled by scripts/build-web.mjs into dist/web/ice.
 *
 * What tests read: `#status` (data-state idle | gathering | done | failed), `#verdict` (data-ok),
 * rows of `#candidate-rows` (data-type), `#errors`, and `window.parleyIce` (the last outcome).
 */
import { fetchTurnCredentials } from '../phone/turn-credentials.js';
import { CANDIDATE_TYPE_NAMES, readCandidate, relayProtocolFromUrl, type Candidate } from './candidates.js';
import { checkIceUrl, explainIceError, verdict, type GatheringOutcome, type IceError } from './explain.js';

/** How long the page waits for gathering to complete (a server that never answers holds it ~40 s in Chromium). */
const GATHERING_WAIT_MS = 15_000;
/** Once a relayed candidate is there, how long the page waits for another before it concludes. */
const SETTLE_MS = 2_000;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from the page`);
  return el as T;
};

const ui = {
  form: $<HTMLFormElement>('check-form'),
  error: $<HTMLParagraphElement>('error'),
  parleyFields: $<HTMLDivElement>('parley-fields'),
  urlFields: $<HTMLDivElement>('url-fields'),
  sipUsername: $<HTMLInputElement>('sip-username'),
  sipPassword: $<HTMLInputElement>('sip-password'),
  url: $<HTMLInputElement>('url'),
  turnUsername: $<HTMLInputElement>('turn-username'),
  turnCredential: $<HTMLInputElement>('turn-credential'),
  policy: $<HTMLSelectElement>('policy'),
  check: $<HTMLButtonElement>('check'),
  stop: $<HTMLButtonElement>('stop'),
  status: $<HTMLParagraphElement>('status'),
  verdict: $<HTMLParagraphElement>('verdict'),
  rows: $<HTMLTableSectionElement>('candidate-rows'),
  errorsHeading: $<HTMLHeadingElement>('errors-heading'),
  errors: $<HTMLUListElement>('errors'),
  servers: $<HTMLParagraphElement>('servers'),
};

const COLUMNS = ['Type', 'Protocol', 'Address', 'Port', 'Relay protocol', 'After'];

type Status = 'idle' | 'gathering' | 'done' | 'failed';
let running: { pc: RTCPeerConnection; finish: (timedOut: boolean) => void } | undefined;
let lastOutcome: (GatheringOutcome & { ok: boolean; text: string }) | undefined;

function setStatus(state: Status, text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function showError(text: string): void {
  ui.error.textContent = text;
  ui.error.hidden = false;
}

function source(): 'parley' | 'url' {
  return (ui.form.elements.namedItem('source') as RadioNodeList).value === 'url' ? 'url' : 'parley';
}

function showSource(): void {
  const s = source();
  ui.parleyFields.hidden = s !== 'parley';
  ui.urlFields.hidden = s !== 'url';
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className !== undefined) td.className = className;
  return td;
}

function addRow(c: Candidate, afterMs: number): void {
  if (ui.rows.querySelector('tr.empty') !== null) ui.rows.textContent = '';
  const tr = document.createElement('tr');
  tr.dataset.type = c.type;
  tr.className = c.type;
  const type = cell(c.type);
  type.title = CANDIDATE_TYPE_NAMES[c.type] ?? c.type;
  const hidden = c.address.endsWith('.local') ? ' (hidden by the browser)' : '';
  const cells = [type, cell(c.protocol), cell(`${c.address}${hidden}`, 'address'), cell(String(c.port)), cell(c.relayProtocol === '' ? '–' : c.relayProtocol), cell(`${afterMs} ms`)];
  // the labels of a phone's narrow layout (ice.css), the column headings of the wide one
  cells.forEach((td, i) => (td.dataset.label = COLUMNS[i]!));
  tr.append(...cells);
  ui.rows.append(tr);
}

function addError(e: IceError): void {
  const text = explainIceError(e);
  // the browser repeats an error for every local address and retry: list each cause once
  if ([...ui.errors.children].some((li) => li.textContent === text)) return;
  const li = document.createElement('li');
  li.textContent = text;
  li.dataset.code = String(e.errorCode);
  ui.errors.append(li);
  ui.errorsHeading.hidden = false;
}

function reset(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
  ui.verdict.hidden = true;
  ui.rows.innerHTML = '<tr class="empty"><td colspan="6">None yet.</td></tr>';
  ui.errors.textContent = '';
  ui.errorsHeading.hidden = true;
  ui.servers.textContent = '';
}

/** The ICE servers to check with: Parley's (credentials fetched for the SIP login) or the typed one. */
async function iceServers(): Promise<RTCIceServer[] | undefined> {
  if (source() === 'parley') {
    const user = ui.sipUsername.value.trim();
    if (user === '' || ui.sipPassword.value === '') {
      showError('Type your SIP username and password: Parley gives TURN credentials to its subscribers.');
      (user === '' ? ui.sipUsername : ui.sipPassword).focus();
      return undefined;
    }
    setStatus('gathering', 'Asking Parley for TURN credentials…');
    const r = await fetchTurnCredentials(user, ui.sipPassword.value);
    if (!r.ok) {
      const text =
        r.reason === 'off'
          ? 'This Parley runs no TURN server (turn.enabled is false, or its port was taken at start). Check another server with "Another STUN or TURN server".'
          : r.reason === 'refused'
            ? `Parley refused the login: ${r.detail}.`
            : `Could not get TURN credentials from Parley (${r.detail}).`;
      showError(text);
      setStatus('failed', 'Not checked.');
      return undefined;
    }
    if (r.credentials.uris.length === 0) {
      showError('Parley gave credentials but no TURN URL.');
      setStatus('failed', 'Not checked.');
      return undefined;
    }
    return [{ urls: [...r.credentials.uris], username: r.credentials.username, credential: r.credentials.password }];
  }
  const url = ui.url.value.trim();
  const bad = checkIceUrl(url);
  if (bad !== undefined) {
    showError(bad);
    ui.url.focus();
    return undefined;
  }
  const turn = url.toLowerCase().startsWith('turn');
  if (turn && (ui.turnUsername.value === '' || ui.turnCredential.value === '')) {
    showError('A TURN server needs a username and a password.');
    (ui.turnUsername.value === '' ? ui.turnUsername : ui.turnCredential).focus();
    return undefined;
  }
  return [turn ? { urls: [url], username: ui.turnUsername.value, credential: ui.turnCredential.value } : { urls: [url] }];
}

async function check(): Promise<void> {
  stop();
  reset();
  ui.check.disabled = true;
  let servers: RTCIceServer[] | undefined;
  try {
    servers = await iceServers();
  } finally {
    ui.check.disabled = false;
  }
  if (servers === undefined) {
    if (ui.status.dataset.state === 'gathering') setStatus('idle', 'Not checked yet.');
    return;
  }
  const urls = servers.flatMap((s) => [s.urls].flat());
  ui.servers.textContent = `Servers: ${urls.join(', ')}`;
  const policy: 'relay' | 'all' = ui.policy.value === 'all' ? 'all' : 'relay';
  let pc: RTCPeerConnection;
  try {
    pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: policy });
  } catch (e) {
    // a URL the browser refuses (a bad host or port)
    showError(`The browser refused the server: ${(e as Error).message}`);
    setStatus('failed', 'Not checked.');
    return;
  }
  const candidates: Candidate[] = [];
  const errors: IceError[] = [];
  const started = performance.now();
  let timer: number | undefined;
  let settle: number | undefined;
  const finish = async (timedOut: boolean): Promise<void> => {
    if (running?.pc !== pc) return;
    running = undefined;
    window.clearTimeout(timer);
    window.clearTimeout(settle);
    ui.stop.disabled = true;
    await fillRelayProtocols(pc, candidates);
    pc.close();
    const empty = ui.rows.querySelector('tr.empty td');
    if (empty !== null) empty.textContent = 'None.';
    const outcome = { policy, urls, candidates, errors, timedOut, waitedMs: Math.round(performance.now() - started) };
    const v = verdict(outcome);
    lastOutcome = { ...outcome, ...v };
    ui.verdict.textContent = v.text;
    ui.verdict.dataset.ok = String(v.ok);
    ui.verdict.hidden = false;
    const n = candidates.length;
    setStatus(v.ok ? 'done' : 'failed', `${v.ok ? 'Done' : 'No luck'}: ${n} candidate${n === 1 ? '' : 's'} in ${(outcome.waitedMs / 1000).toFixed(1)} s${timedOut ? ' (stopped waiting)' : ''}.`);
  };
  running = { pc, finish: (t) => void finish(t) };
  ui.stop.disabled = false;
  const single = urls.length === 1 ? urls[0] : undefined;
  pc.addEventListener('icecandidate', (e) => {
    if (e.candidate === null) return void finish(false);
    if (e.candidate.candidate === '') return;
    const c = readCandidate(e.candidate, (e as RTCPeerConnectionIceEvent & { url?: string | null }).url ?? single);
    console.debug(`ICE candidate: ${e.candidate.candidate}`);
    if (c === undefined) return;
    candidates.push(c);
    addRow(c, Math.round(performance.now() - started));
    // a relay is what the check looks for: once one came, stop when nothing more comes for a while
    // (Chromium may hold "gathering complete" for its other attempts until its own timeouts)
    if (candidates.some((x) => x.type === 'relay')) {
      window.clearTimeout(settle);
      settle = window.setTimeout(() => void finish(false), SETTLE_MS);
    }
  });
  pc.addEventListener('icecandidateerror', (ev) => {
    const e = ev as RTCPeerConnectionIceErrorEvent;
    const err = { errorCode: e.errorCode, errorText: e.errorText ?? '', url: e.url ?? '' };
    errors.push(err);
    addError(err);
  });
  pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') void finish(false);
  });
  setStatus('gathering', `Gathering candidates from ${urls.join(', ')}…`);
  timer = window.setTimeout(() => void finish(true), GATHERING_WAIT_MS);
  // a data channel is enough to make the connection gather (no camera, no microphone)
  pc.createDataChannel('ice-check');
  try {
    await pc.setLocalDescription(await pc.createOffer());
  } catch (e) {
    showError(`The browser could not start gathering: ${(e as Error).message}`);
    void finish(false);
  }
}

/**
 * The relay protocol of each relayed candidate from getStats() (RTCIceCandidateStats.relayProtocol
 * and url), where the candidate event did not say: Chromium 156 leaves RTCIceCandidate.relayProtocol null.
 */
async function fillRelayProtocols(pc: RTCPeerConnection, candidates: Candidate[]): Promise<void> {
  if (!candidates.some((c) => c.type === 'relay' && c.relayProtocol === '')) return;
  let report: RTCStatsReport;
  try {
    report = await pc.getStats();
  } catch {
    return;
  }
  const found = new Map<string, string>();
  report.forEach((r: { type: string; candidateType?: string; address?: string; port?: number; relayProtocol?: string; url?: string }) => {
    if (r.type !== 'local-candidate' || r.candidateType !== 'relay') return;
    const p = r.relayProtocol || relayProtocolFromUrl(r.url);
    if (p !== '') found.set(`${r.address}:${r.port}`, p);
  });
  const rows = [...ui.rows.querySelectorAll('tr')];
  candidates.forEach((c, i) => {
    const p = found.get(`${c.address}:${c.port}`);
    if (c.type !== 'relay' || c.relayProtocol !== '' || p === undefined) return;
    candidates[i] = { ...c, relayProtocol: p };
    const cell = rows[i]?.children[4];
    if (cell !== undefined) cell.textContent = p;
  });
}

function stop(): void {
  running?.finish(true);
}

declare global {
  interface Window {
    parleyIce: { readonly outcome: (GatheringOutcome & { ok: boolean; text: string }) | undefined };
  }
}
window.parleyIce = {
  get outcome() {
    return lastOutcome;
  },
};

function main(): void {
  const q = new URLSearchParams(location.search);
  // links: /ice?url=turn:…&username=…  or  /ice?user=alice (a password is never read from a link)
  const url = q.get('url');
  if (url !== null) {
    (ui.form.elements.namedItem('source') as RadioNodeList).value = 'url';
    ui.url.value = url;
    ui.turnUsername.value = q.get('username') ?? '';
  }
  ui.sipUsername.value = q.get('user') ?? '';
  if (q.get('policy') === 'all') ui.policy.value = 'all';
  for (const r of ui.form.querySelectorAll<HTMLInputElement>('input[name=source]')) r.addEventListener('change', showSource);
  showSource();
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    void check();
  });
  ui.stop.addEventListener('click', stop);
  setStatus('idle', 'Not checked yet.');
}

main();
