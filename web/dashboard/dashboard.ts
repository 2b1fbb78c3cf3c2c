// Parley's dashboard (/dashboard): sign in with an API token or as an administrator subscriber,
// then live figures, the last hour in charts, the event stream, registrations and calls with
// search (hang up), and the ladder diagram of traced calls and of calls captured over HEP. Everything comes from the REST API
// (/api/v1) with the token kept in sessionStorage.
import uPlot from 'uplot';
import type { BindingView, CallView, CaptureSummary, CapturedCall, Ladder, Page, StatsSnapshot, TraceSummary } from '../../src/api/operations.js';
import type { ParleyEvent } from '../../src/lib/events.js';
import { Api, ApiError, createSession } from './api.js';
import { describeEvent } from './events.js';
import { LadderView } from './ladder-view.js';
import { addSample, chartSeries, formatFigure, formatTick, mergeSamples, requestRate, type ChartName } from './series.js';

const TOKEN_KEY = 'parley.dashboard.token';
const SCOPE_KEY = 'parley.dashboard.scope';
const STATS_EVERY_MS = 3000;
const TABLES_EVERY_MS = 5000;
const FEED_MAX = 100;

type View = 'overview' | 'registrations' | 'calls' | 'traces' | 'captures';
const VIEWS: readonly View[] = ['overview', 'registrations', 'calls', 'traces', 'captures'];
/** The views that draw a call's ladder (`#traces/<Call-ID>`, `#captures/<Call-ID>`). */
type LadderViewName = 'traces' | 'captures';
const hasLadder = (v: View): v is LadderViewName => v === 'traces' || v === 'captures';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`#${id} is missing from the page`);
  return e as T;
};
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};

function showError(message: string | undefined): void {
  const e = $('error');
  e.textContent = message ?? '';
  e.hidden = message === undefined;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${String(m).padStart(h > 0 ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** A debounced call (search fields). */
function debounce(fn: () => void, ms: number): () => void {
  let timer: number | undefined;
  return () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(fn, ms);
  };
}

// ---- signing in -------------------------------------------------------------------------------

function loginError(message: string | undefined): void {
  const e = $('login-error');
  e.textContent = message ?? '';
  e.hidden = message === undefined;
}

let session: Session | undefined;

async function signIn(token: string, scope: string | undefined): Promise<void> {
  const api = new Api(token);
  // any token may read the counters: a refused one is a wrong token
  await api.get<StatsSnapshot>('/stats');
  sessionStorage.setItem(TOKEN_KEY, token);
  if (scope === undefined) sessionStorage.removeItem(SCOPE_KEY);
  else sessionStorage.setItem(SCOPE_KEY, scope);
  start(api, scope);
}

function signOut(message?: string): void {
  session?.stop();
  session = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(SCOPE_KEY);
  document.body.dataset.view = 'login';
  $('login').hidden = false;
  $('tabs').hidden = true;
  $('logout').hidden = true;
  for (const v of VIEWS) $(v).hidden = true;
  showError(undefined);
  loginError(message);
  setConnection('offline', 'signed out');
}

function setConnection(state: 'offline' | 'live' | 'error', text: string): void {
  const c = $('connection');
  c.dataset.state = state;
  c.textContent = text;
}

function loginFailure(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401 || e.status === 403) return 'Not accepted: check the token, or the username and password (an administrator subscriber).';
    if (e.status === 429) return 'Too many failed attempts from here: wait a moment and try again.';
    return `The server answered: ${e.message}`;
  }
  return `The server cannot be reached: ${(e as Error).message}`;
}

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = $<HTMLInputElement>('token').value.trim();
  if (token === '') {
    loginError('Paste an API token.');
    return;
  }
  loginError(undefined);
  signIn(token, undefined).catch((e: unknown) => loginError(loginFailure(e)));
});

$('password-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  loginError(undefined);
  const username = $<HTMLInputElement>('username').value.trim();
  const domain = $<HTMLInputElement>('domain').value.trim();
  const password = $<HTMLInputElement>('password').value;
  createSession(username, domain, password)
    .then((s) => signIn(s.token, 'admin'))
    .then(() => ($<HTMLInputElement>('password').value = ''))
    .catch((e: unknown) => loginError(loginFailure(e)));
});

$('logout').addEventListener('click', () => signOut());

// ---- the signed-in dashboard --------------------------------------------------------------------

class Session {
  private readonly timers: number[] = [];
  private socket: WebSocket | undefined;
  private socketRetry: number | undefined;
  private stopped = false;
  private readonly history: StatsSnapshot[] = [];
  private lastStats: StatsSnapshot | undefined;
  private readonly charts = new Map<ChartName, uPlot>();
  private view: View = 'overview';
  private readonly ladder = new LadderView();
  /** The view whose call the ladder draws. */
  private ladderOf: LadderViewName | undefined;
  private readonly resize = (): void => {
    this.sizeCharts();
    this.ladder.redraw();
  };

  constructor(
    readonly api: Api,
    /** `read` hides the hang-up buttons; undefined: not known (a 403 tells). */
    private scope: string | undefined,
  ) {}

  start(): void {
    this.every(STATS_EVERY_MS, () => this.refreshStats());
    this.every(TABLES_EVERY_MS, () => this.refreshView());
    // GET /stats/history answers {intervalSeconds, samples} (src/api/routes/stats.ts)
    this.api.get<{ readonly samples: readonly StatsSnapshot[] }>('/stats/history').then(
      (h) => {
        mergeSamples(this.history, h.samples);
        this.updateCharts();
      },
      (e: unknown) => this.failed(e),
    );
    this.connectEvents();
    window.addEventListener('resize', this.resize);
    const search = (v: 'registrations' | 'calls'): (() => void) => debounce(() => this.refresh(v), 250);
    this.onInput('registrations-search', search('registrations'));
    this.onInput('calls-search', search('calls'));
    this.onInput('captures-search', debounce(() => this.refresh('captures'), 250));
  }

  private readonly inputs: Array<[HTMLElement, () => void]> = [];
  private onInput(id: string, fn: () => void): void {
    const e = $(id);
    e.addEventListener('input', fn);
    this.inputs.push([e, fn]);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) window.clearInterval(t);
    window.clearTimeout(this.socketRetry);
    this.socket?.close();
    window.removeEventListener('resize', this.resize);
    for (const [e, fn] of this.inputs) e.removeEventListener('input', fn);
    for (const c of this.charts.values()) c.destroy();
    this.charts.clear();
    $('events').replaceChildren();
    for (const id of ['registrations', 'calls', 'traces', 'captures']) $(id).querySelector('tbody')!.replaceChildren();
    this.ladder.hide();
  }

  private every(ms: number, fn: () => Promise<void>): void {
    void fn();
    this.timers.push(window.setInterval(() => void fn(), ms));
  }

  /** An API call failed: 401 ends the session, else the message shows (and goes when a call works). */
  private failed(e: unknown): void {
    if (this.stopped) return;
    if (e instanceof ApiError && e.status === 401) {
      signOut('Signed out: the token is no longer accepted (revoked, or the session expired).');
      return;
    }
    setConnection('error', 'connection trouble');
    showError(e instanceof ApiError ? `The server answered ${e.status}: ${e.message}` : `The server cannot be reached: ${(e as Error).message}`);
  }

  private worked(): void {
    setConnection('live', `live · ${new Date().toLocaleTimeString()}`);
    showError(undefined);
  }

  show(view: View, ladderCallId?: string): void {
    this.view = view;
    document.body.dataset.view = view;
    for (const v of VIEWS) $(v).hidden = v !== view;
    for (const a of $('tabs').querySelectorAll<HTMLAnchorElement>('a[data-tab]')) {
      if (a.dataset.tab === view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (view === 'overview') this.drawCharts();
    if (hasLadder(view) && ladderCallId !== undefined) void this.openLadder(view, ladderCallId);
    else if (hasLadder(view) || this.ladderOf !== undefined) {
      this.ladder.hide();
      this.ladderOf = undefined;
    }
    void this.refresh(view);
  }

  private refreshView(): Promise<void> {
    return this.refresh(this.view);
  }

  private async refresh(view: View): Promise<void> {
    try {
      if (view === 'registrations') await this.refreshRegistrations();
      else if (view === 'calls') await this.refreshCalls();
      else if (view === 'traces') await this.refreshTraces();
      else if (view === 'captures') await this.refreshCaptures();
      else await this.refreshCallCount();
      this.worked();
    } catch (e) {
      this.failed(e);
    }
  }

  // ---- overview: figures, charts, events

  private async refreshStats(): Promise<void> {
    try {
      const s = await this.api.get<StatsSnapshot>('/stats');
      const figure = (name: string, text: string): void => {
        const e = document.querySelector<HTMLElement>(`[data-figure="${name}"]`);
        if (e !== null) e.textContent = text;
      };
      figure('registrations', formatFigure(s.registrations));
      figure('requestRate', formatFigure(requestRate(s, this.lastStats), 1));
      figure('authFailures', formatFigure(s.authFailures));
      figure('blockedSources', formatFigure(s.blockedSources));
      figure('turnAllocations', formatFigure(s.turnAllocations));
      figure('mediaSessions', formatFigure(s.mediaSessions));
      this.lastStats = s;
      addSample(this.history, s);
      this.updateCharts();
      this.worked();
    } catch (e) {
      this.failed(e);
    }
  }

  private async refreshCallCount(): Promise<void> {
    const page = await this.api.get<Page<CallView>>('/calls?limit=1');
    const e = document.querySelector<HTMLElement>('[data-figure="calls"]');
    if (e !== null) e.textContent = formatFigure(page.total);
  }

  private drawCharts(): void {
    if (this.view !== 'overview' || this.stopped) return;
    const data = chartSeries(this.history);
    const colour = getComputedStyle(document.documentElement).getPropertyValue('--chart').trim() || '#1f5fbf';
    const axisColour = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#5d6670';
    const gridColour = getComputedStyle(document.documentElement).getPropertyValue('--line').trim() || '#d6dade';
    for (const figure of document.querySelectorAll<HTMLElement>('[data-chart]')) {
      const name = figure.dataset.chart as ChartName;
      if (this.charts.has(name)) continue;
      const plot = figure.querySelector<HTMLElement>('.plot')!;
      const width = Math.max(200, plot.clientWidth);
      const axis = { stroke: axisColour, grid: { stroke: gridColour, width: 1 }, ticks: { stroke: gridColour, width: 1 }, size: 44 };
      const chart = new uPlot(
        {
          width,
          height: 150,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, max ?? 1)] } },
          axes: [{ ...axis }, { ...axis, values: (_u, ticks) => ticks.map(formatTick) }],
          series: [{}, { stroke: colour, width: 2, fill: `${colour}22`, spanGaps: false, points: { show: false } }],
        },
        [data.x, data.y[name]],
        plot,
      );
      chart.root.dataset.testid = `uplot-${name}`;
      this.charts.set(name, chart);
    }
  }

  private updateCharts(): void {
    if (this.charts.size === 0) {
      this.drawCharts();
      return;
    }
    const data = chartSeries(this.history);
    for (const [name, chart] of this.charts) chart.setData([data.x, data.y[name]]);
  }

  private sizeCharts(): void {
    for (const chart of this.charts.values()) {
      const plot = chart.root.parentElement;
      if (plot !== null && plot.clientWidth > 0) chart.setSize({ width: plot.clientWidth, height: 150 });
    }
  }

  private connectEvents(delayMs = 1000): void {
    if (this.stopped) return;
    const state = $('events-state');
    let socket: WebSocket;
    try {
      socket = this.api.eventSocket();
    } catch (e) {
      state.textContent = `unavailable: ${(e as Error).message}`;
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      state.textContent = 'live';
      const feed = $('events');
      if (feed.children.length === 0) feed.append(el('li', { class: 'empty' }, 'No events since you signed in.'));
      delayMs = 1000;
    });
    socket.addEventListener('message', (m) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(m.data));
      } catch {
        return;
      }
      for (const e of Array.isArray(parsed) ? parsed : [parsed]) {
        const event = (typeof e === 'object' && e !== null && 'event' in e ? (e as { event: unknown }).event : e) as ParleyEvent;
        if (typeof event?.type === 'string') this.addEvent(event);
      }
    });
    socket.addEventListener('close', () => {
      if (this.stopped) return;
      state.textContent = 'reconnecting…';
      this.socketRetry = window.setTimeout(() => this.connectEvents(Math.min(delayMs * 2, 30_000)), delayMs);
    });
  }

  private addEvent(e: ParleyEvent): void {
    const feed = $('events');
    const d = describeEvent(e);
    const li = el('li', { 'data-type': e.type });
    const time = el('time', { datetime: new Date(e.time).toISOString() }, new Date(e.time).toLocaleTimeString());
    li.append(time, el('span', { class: 'type', 'data-kind': d.kind }, d.title), el('span', { class: 'what' }, d.detail));
    feed.querySelector('.empty')?.remove();
    feed.prepend(li);
    while (feed.children.length > FEED_MAX) feed.lastElementChild!.remove();
  }

  // ---- tables

  private emptyRow(tbody: HTMLElement, columns: number, text: string): void {
    const td = el('td', { class: 'empty', colspan: String(columns) }, text);
    tbody.replaceChildren(el('tr', {}, undefined));
    tbody.firstElementChild!.append(td);
  }

  private async refreshRegistrations(): Promise<void> {
    const q = $<HTMLInputElement>('registrations-search').value.trim();
    const page = await this.api.get<Page<BindingView>>(`/bindings?limit=200${q === '' ? '' : `&search=${encodeURIComponent(q)}`}`);
    const tbody = $('registrations').querySelector('tbody')!;
    $('registrations').querySelector('[data-testid=registrations-count]')!.textContent = `${page.total} binding${page.total === 1 ? '' : 's'}`;
    if (page.items.length === 0) return this.emptyRow(tbody, 5, q === '' ? 'No registrations.' : `No registration matches “${q}”.`);
    tbody.replaceChildren(
      ...page.items.map((b) => {
        const tr = el('tr', { 'data-aor': b.aor });
        tr.append(
          el('td', { 'data-label': 'AOR' }, b.aor),
          el('td', { class: 'mono', 'data-label': 'Contact' }, b.contact),
          el('td', { class: 'mono', 'data-label': 'Source' }, b.source),
          el('td', { 'data-label': 'Expires in' }, duration(b.expiresIn)),
          el('td', { 'data-label': 'User agent' }, b.userAgent ?? ''),
        );
        return tr;
      }),
    );
  }

  private async refreshCalls(): Promise<void> {
    const q = $<HTMLInputElement>('calls-search').value.trim();
    const page = await this.api.get<Page<CallView>>(`/calls?limit=200${q === '' ? '' : `&search=${encodeURIComponent(q)}`}`);
    const tbody = $('calls').querySelector('tbody')!;
    $('calls').querySelector('[data-testid=calls-count]')!.textContent = `${page.total} call${page.total === 1 ? '' : 's'}`;
    const figure = document.querySelector<HTMLElement>('[data-figure="calls"]');
    if (figure !== null && q === '') figure.textContent = formatFigure(page.total);
    if (page.items.length === 0) return this.emptyRow(tbody, 6, q === '' ? 'No calls in progress.' : `No call matches “${q}”.`);
    tbody.replaceChildren(
      ...page.items.map((c) => {
        const tr = el('tr', { 'data-call-id': c.callId });
        const state = el('span', { class: 'state', 'data-state': c.state }, c.state);
        const actions = el('td', { class: 'actions' });
        if (this.scope !== 'read') {
          const hangup = el('button', { type: 'button', class: 'danger', 'data-testid': 'hangup', 'aria-label': `Hang up the call ${c.callId}` }, 'Hang up');
          hangup.addEventListener('click', () => void this.hangup(c.callId, hangup));
          actions.append(hangup);
        }
        const stateCell = el('td', { 'data-label': 'State' });
        stateCell.append(state);
        tr.append(
          el('td', { 'data-label': 'Caller' }, c.caller.uri),
          el('td', { 'data-label': 'Callee' }, c.callee.uri),
          stateCell,
          el('td', { 'data-label': c.answeredAt === undefined ? 'Duration' : 'Talking' }, duration(c.answeredAt === undefined ? c.duration : c.talkTime)),
          el('td', { class: 'mono', 'data-label': 'Call-ID' }, c.callId),
          actions,
        );
        return tr;
      }),
    );
  }

  private async hangup(callId: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      await this.api.delete(`/calls/${encodeURIComponent(callId)}`);
      await this.refreshCalls();
    } catch (e) {
      button.disabled = false;
      if (e instanceof ApiError && e.status === 403) {
        this.scope = 'read';
        showError('This token may only read: hanging up needs a write or admin token.');
        return;
      }
      this.failed(e);
    }
  }

  private async refreshTraces(): Promise<void> {
    const page = await this.api.get<Page<TraceSummary>>('/traces?limit=200');
    const tbody = $('traces').querySelector('tbody')!;
    if (page.items.length === 0) return this.emptyRow(tbody, 3, 'No traced calls.');
    tbody.replaceChildren(
      ...page.items.map((t) => {
        const tr = el('tr', { class: 'pick', 'data-call-id': t.callId, 'aria-selected': String(this.ladderOf === 'traces' && this.ladder.callId === t.callId) });
        const open = el('button', { type: 'button', class: 'link', 'data-testid': 'open-trace' }, t.callId);
        open.addEventListener('click', () => (location.hash = `#traces/${encodeURIComponent(t.callId)}`));
        const first = el('td');
        first.append(open);
        tr.append(first, el('td', {}, String(t.requests)), el('td', {}, new Date(t.modified).toLocaleString()));
        tr.addEventListener('click', (ev) => {
          if (ev.target !== open) open.click();
        });
        return tr;
      }),
    );
  }

  private async refreshCaptures(): Promise<void> {
    const q = $<HTMLInputElement>('captures-search').value.trim();
    const tbody = $('captures').querySelector('tbody')!;
    const count = $('captures').querySelector('[data-testid=captures-count]')!;
    let page: Page<CaptureSummary>;
    try {
      page = await this.api.get<Page<CaptureSummary>>(`/captures?limit=200${q === '' ? '' : `&search=${encodeURIComponent(q)}`}`);
    } catch (e) {
      // no collector here: the view says how to run one instead of an error banner
      if (!(e instanceof ApiError && e.status === 503)) throw e;
      count.textContent = '';
      return this.emptyRow(tbody, 5, `No HEP collector: ${e.message}`);
    }
    count.textContent = `${page.total} call${page.total === 1 ? '' : 's'}`;
    if (page.items.length === 0) return this.emptyRow(tbody, 5, q === '' ? 'No captured calls.' : `No captured call matches “${q}”.`);
    tbody.replaceChildren(
      ...page.items.map((c) => {
        const tr = el('tr', { class: 'pick', 'data-call-id': c.callId, 'aria-selected': String(this.ladderOf === 'captures' && this.ladder.callId === c.callId) });
        const open = el('button', { type: 'button', class: 'link', 'data-testid': 'open-capture' }, c.callId);
        open.addEventListener('click', () => (location.hash = `#captures/${encodeURIComponent(c.callId)}`));
        const first = el('td', { 'data-label': 'Call-ID' });
        first.append(open);
        tr.append(
          first,
          el('td', { 'data-label': 'From' }, c.from ?? ''),
          el('td', { 'data-label': 'To' }, c.to ?? ''),
          el('td', { 'data-label': 'Messages' }, String(c.messages)),
          el('td', { 'data-label': 'Last message' }, new Date(c.lastAt).toLocaleString()),
        );
        tr.addEventListener('click', (ev) => {
          if (ev.target !== open) open.click();
        });
        return tr;
      }),
    );
  }

  // ---- the ladder of a traced or captured call (ladder-view.ts draws both)

  private async openLadder(view: LadderViewName, callId: string): Promise<void> {
    try {
      const ladder =
        view === 'traces'
          ? await this.api.get<Ladder>(`/traces/${encodeURIComponent(callId)}/ladder`)
          : (await this.api.get<CapturedCall>(`/captures/${encodeURIComponent(callId)}`)).ladder;
      if (this.view !== view) return;
      this.ladderOf = view;
      this.ladder.show(ladder, $(view));
      for (const tr of $(view).querySelectorAll<HTMLElement>('tr[data-call-id]')) tr.setAttribute('aria-selected', String(tr.dataset.callId === callId));
      this.worked();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) showError(view === 'traces' ? `No trace of call ${callId}.` : `No captured call ${callId}.`);
      else this.failed(e);
    }
  }
}

function start(api: Api, scope: string | undefined): void {
  session?.stop();
  $('login').hidden = true;
  $('tabs').hidden = false;
  $('logout').hidden = false;
  $<HTMLInputElement>('token').value = '';
  loginError(undefined);
  session = new Session(api, scope);
  session.start();
  route();
}

/** `#overview`, `#registrations`, `#calls`, `#traces`, `#traces/<Call-ID>`, `#captures`, `#captures/<Call-ID>`. */
function route(): void {
  if (session === undefined) return;
  const hash = decodeURIComponent(location.hash.slice(1));
  const slash = hash.indexOf('/');
  const name = (slash < 0 ? hash : hash.slice(0, slash)) as View;
  const view = VIEWS.includes(name) ? name : 'overview';
  session.show(view, hasLadder(view) && slash >= 0 ? hash.slice(slash + 1) : undefined);
}

window.addEventListener('hashchange', route);

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved !== null) start(new Api(saved), sessionStorage.getItem(SCOPE_KEY) ?? undefined);
else signOut();

// for tests and the curious: the state of the page
(window as unknown as { parleyDashboard: unknown }).parleyDashboard = {
  get signedIn() {
    return session !== undefined;
  },
};
