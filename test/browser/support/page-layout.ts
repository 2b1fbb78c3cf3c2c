// Layout checks of the operator's pages by element geometry, shared by the dashboard suites
// (dashboard.test.ts, hep-dashboard.test.ts): no sideways scroll, boxes that do not overlap,
// touch targets at least 40 px, and the ladder diagram's arrows ending on their columns.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

export type Box = { x: number; y: number; width: number; height: number };
export const overlap = (a: Box, b: Box): boolean => a.x + a.width > b.x + 0.5 && b.x + b.width > a.x + 0.5 && a.y + a.height > b.y + 0.5 && b.y + b.height > a.y + 0.5;

/** What runs inside the page (page.evaluate). */
declare const document: { readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number } };
declare const window: { readonly innerWidth: number };

/** No horizontal scroll of the page; the boxes of these test ids do not overlap one another. */
export async function assertLayout(page: Page, what: string, ids: readonly string[], context: () => string): Promise<void> {
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, inner: window.innerWidth }));
  assert.ok(widths.scroll <= widths.client, `${what}: the page scrolls sideways (${JSON.stringify(widths)})\n${context()}`);
  for (const id of ids) {
    const boxes: Box[] = [];
    for (const l of await page.getByTestId(id).all()) {
      if (!(await l.isVisible())) continue;
      const b = (await l.boundingBox())!;
      assert.ok(b.x >= -0.5 && b.x + b.width <= widths.client + 0.5, `${what}: ${id} sticks out of the viewport: ${JSON.stringify(b)}`);
      for (const other of boxes) assert.ok(!overlap(b, other), `${what}: two ${id} overlap: ${JSON.stringify([b, other])}`);
      boxes.push(b);
    }
  }
}

/** Every visible button, link of the tabs and input at least 40 px high (and buttons 40 px wide). */
export async function assertTouchTargets(page: Page, what: string): Promise<void> {
  for (const l of await page.locator('button, nav a, input').all()) {
    if (!(await l.isVisible())) continue;
    const b = (await l.boundingBox())!;
    const name = (await l.getAttribute('data-testid')) ?? (await l.innerText().catch(() => '')) ?? '';
    assert.ok(b.height >= 40, `${what}: "${name}" is ${b.height} px high, under 40`);
  }
}

/**
 * The ladder diagram drawn in the page: its columns (participants, left to right) and its arrows
 * (`from>to label`, top to bottom, names through `who`), each checked to start on its `from`
 * column's lifeline and point at its `to` column's (on the SVG's geometry); the columns' names
 * do not run into one another.
 */
export async function drawnLadder(page: Page, who: (participant: string) => string = (p) => p): Promise<{ columns: string[]; arrows: string[] }> {
  const columns = new Map<string, number>();
  for (const g of await page.locator('g.column').all()) {
    const p = (await g.getAttribute('data-participant'))!;
    columns.set(p, Number(await g.locator('line.lifeline').getAttribute('x1')));
  }
  const names: Box[] = [];
  for (const t of await page.locator('g.column text.column-name').all()) {
    const b = (await t.boundingBox())!;
    for (const other of names) assert.ok(!overlap(b, other), `two column names overlap: ${JSON.stringify([b, other])}`);
    names.push(b);
  }
  const arrows: string[] = [];
  for (const g of await page.getByTestId('ladder-arrow').all()) {
    const [from, to, label] = await Promise.all([g.getAttribute('data-from'), g.getAttribute('data-to'), g.getAttribute('data-label')]);
    const x1 = Number(await g.locator('line').getAttribute('x1'));
    const tip = Number((await g.locator('polygon').getAttribute('points'))!.split(',')[0]);
    assert.ok(columns.has(from!) && columns.has(to!), `${label}: ${from} → ${to} names a column not drawn: ${JSON.stringify([...columns])}`);
    assert.ok(Math.abs(x1 - columns.get(from!)!) < 1 && Math.abs(tip - columns.get(to!)!) < 2, `${label} ${from} → ${to} is drawn from ${x1} to ${tip}: ${JSON.stringify([...columns])}`);
    arrows.push(`${who(from!)}>${who(to!)} ${label}`);
  }
  return { columns: [...columns.keys()], arrows };
}

/** `expected` appear in `drawn` in this order (others may come between: retransmissions, a 100 Trying). */
export function assertInOrder(drawn: readonly string[], expected: readonly string[]): void {
  let at = 0;
  for (const e of expected) {
    const i = drawn.indexOf(e, at);
    assert.ok(i >= 0, `no "${e}" after arrow ${at} in the ladder:\n${drawn.join('\n')}`);
    at = i + 1;
  }
}
