// The ladder diagram of one call, shared by the Traces view (routing traces of test calls) and the
// Captured view (calls captured over HEP): one component and one piece of the page, moved into the
// view that shows it. It draws the SVG from layoutLadder (ladder-layout.ts) and shows the message
// of the arrow picked (click, Enter or Space).
import type { Ladder } from '../../src/api/operations.js';
import { layoutLadder } from './ladder-layout.js';

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag: string, attrs: Record<string, string | number> = {}, text?: string): SVGElement => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
};

const byId = (id: string): HTMLElement => {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`#${id} is missing from the page`);
  return e;
};

export class LadderView {
  private ladder: Ladder | undefined;
  private selected: number | undefined;
  /** The whole component (`#ladder-view`): its title, the drawing's card and the message card. */
  private readonly root = byId('ladder-view');
  private readonly drawing = byId('ladder');
  private readonly card = byId('message-card');

  /** The Call-ID drawn, if any. */
  get callId(): string | undefined {
    return this.ladder?.callId;
  }

  /** Draw `ladder` at the end of `host` (a view's section), the message card closed. */
  show(ladder: Ladder, host: HTMLElement): void {
    if (this.root.parentElement !== host) host.append(this.root);
    this.ladder = ladder;
    this.selected = undefined;
    byId('ladder-call').textContent = ladder.callId;
    this.root.hidden = false;
    this.card.hidden = true;
    this.draw();
  }

  hide(): void {
    this.root.hidden = true;
    this.ladder = undefined;
    this.selected = undefined;
  }

  /** Lay the drawing out again (the window changed size). */
  redraw(): void {
    if (this.ladder !== undefined && !this.root.hidden) this.draw();
  }

  private draw(): void {
    const ladder = this.ladder!;
    const available = this.drawing.parentElement?.clientWidth ?? 600;
    const l = layoutLadder(ladder, available - 2);
    const root = svg('svg', { class: 'ladder-svg', width: l.width, height: l.height, viewBox: `0 0 ${l.width} ${l.height}`, role: 'group', 'aria-label': `Ladder diagram of ${ladder.callId}` });
    root.dataset.testid = 'ladder-svg';
    for (const c of l.columns) {
      const g = svg('g', { class: 'column', 'data-participant': c.name });
      // a name wider than the space right of the last lifeline ends at the drawing's edge
      const atEdge = c.x + 58 > l.width;
      const nameX = atEdge ? l.width - 2 : c.x;
      const name = svg('text', { class: 'column-name', x: nameX, y: 16, 'text-anchor': atEdge ? 'end' : 'middle' });
      c.lines.forEach((line, i) => name.append(svg('tspan', { x: nameX, dy: i === 0 ? 0 : 15, class: i === 0 ? '' : 'transport' }, line)));
      g.append(name, svg('title', {}, c.name), svg('line', { class: 'lifeline', x1: c.x, y1: l.top, x2: c.x, y2: l.bottom }));
      root.append(g);
    }
    for (const r of l.rows) {
      const a = ladder.arrows[r.index]!;
      const g = svg('g', { class: 'arrow', 'data-kind': r.kind, 'data-from': a.from, 'data-to': a.to, 'data-label': r.label, tabindex: 0, role: 'button', 'aria-pressed': String(this.selected === r.index), 'aria-label': `${r.label} from ${a.from} to ${a.to}, ${r.time}` });
      g.dataset.testid = 'ladder-arrow';
      const dir = r.x2 > r.x1 ? 1 : -1;
      const tip = r.x2 - dir * 1;
      g.append(
        svg('rect', { class: 'hit', x: r.hit.x, y: r.hit.y, width: r.hit.width, height: r.hit.height, rx: 4 }),
        svg('text', { class: 'time', x: 6, y: r.y + 4 }, r.time),
        svg('line', { x1: r.x1, y1: r.y, x2: tip - dir * 8, y2: r.y }),
        svg('polygon', { points: `${tip},${r.y} ${tip - dir * 9},${r.y - 4.5} ${tip - dir * 9},${r.y + 4.5}` }),
        svg('text', { class: 'label', x: (r.x1 + r.x2) / 2, y: r.y - 7, 'text-anchor': 'middle' }, r.text),
      );
      const pick = (): void => this.showMessage(r.index);
      g.addEventListener('click', pick);
      g.addEventListener('keydown', (ev) => {
        if ((ev as KeyboardEvent).key === 'Enter' || (ev as KeyboardEvent).key === ' ') {
          ev.preventDefault();
          pick();
        }
      });
      root.append(g);
    }
    this.drawing.replaceChildren(root);
  }

  private showMessage(index: number): void {
    const a = this.ladder?.arrows[index];
    if (a === undefined) return;
    this.selected = index;
    for (const g of this.drawing.querySelectorAll<SVGElement>('g.arrow')) g.setAttribute('aria-pressed', 'false');
    this.drawing.querySelectorAll<SVGElement>('g.arrow')[index]?.setAttribute('aria-pressed', 'true');
    byId('message-title').textContent = `${a.label} · ${a.from} → ${a.to} · +${a.t.toFixed(1)} ms`;
    byId('message').textContent = a.message.replaceAll('\r\n', '\n');
    this.card.hidden = false;
  }
}
