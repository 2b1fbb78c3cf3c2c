/**
 * Example routing script: calls to telephone numbers go out through SIP trunks chosen by prefix
 * or regular expression, with failover to the next trunk of the route when one fails; everything
 * else (registrations, calls between local users, in-dialog requests) as the default script.
 *
 *   parley serve --script src/routing/examples/trunks.ts      (edit TRUNKS and ROUTES first)
 *
 * Only authenticated local users reach the trunks, at most 5 new calls per second each.
 */
import { SipReply, type FailureContext, type ReplyContext, type RequestContext } from 'parley/routing';
import * as defaults from '../scripts/default.js';

// the rest is the default script's
export { onStateless, onInDialog } from '../scripts/default.js';

/** The trunks: where each one is reached. */
const TRUNKS: Readonly<Record<string, string>> = {
  'carrier-a': 'sip:198.51.100.10:5060',
  'carrier-b': 'sip:198.51.100.20:5060',
  emergency: 'sip:198.51.100.30:5060;transport=tcp',
};

interface NumberRoute {
  readonly name: string;
  /** A number prefix, or a pattern the whole number must match. */
  readonly match: string | RegExp;
  /** Trunks in order of preference: the next one is tried when one fails (408, 5xx). */
  readonly trunks: readonly string[];
  /** Digits removed from the front, then text put there (a dial plan: 00 → +). */
  readonly strip?: number;
  readonly prepend?: string;
}

/** The first route that matches a dialled number wins. */
const ROUTES: readonly NumberRoute[] = [
  { name: 'emergency', match: /^(112|911)$/, trunks: ['emergency'] },
  { name: 'international', match: '00', strip: 2, prepend: '+', trunks: ['carrier-b', 'carrier-a'] },
  { name: 'e164', match: /^\+\d{8,15}$/, trunks: ['carrier-a', 'carrier-b'] },
  { name: 'national', match: /^0[1-9]\d{6,11}$/, trunks: ['carrier-a', 'carrier-b'] },
];

/** Failures worth another trunk: the trunk did not answer or failed, not the callee (busy, no such number). */
const FAILOVER = (status: number): boolean => status === 408 || (status >= 500 && status < 600);

/** Written into traces at each handler's start and end. */
export const dumpVars = ['route', 'trunk', 'number'];

/** A route for a dialled number, and the number as the trunk wants it. */
export function routeFor(dialled: string): { route: NumberRoute; number: string } | undefined {
  for (const route of ROUTES) {
    const hit = typeof route.match === 'string' ? dialled.startsWith(route.match) : route.match.test(dialled);
    if (hit) return { route, number: (route.prepend ?? '') + dialled.slice(route.strip ?? 0) };
  }
  return undefined;
}

/** The Request-URI for a number on a trunk: the number as user part, the trunk's host and parameters. */
function trunkUri(trunk: string, number: string): string {
  const uri = TRUNKS[trunk];
  if (uri === undefined) throw new Error(`no trunk ${trunk}`);
  return uri.replace(/^sip:/, `sip:${number}@`);
}

export async function onRequest(ctx: RequestContext): Promise<void> {
  const ruri = ctx.ruri;
  const dialled = ruri.kind === 'sip' ? ruri.userUnescaped : ruri.kind === 'tel' ? ruri.number : undefined;
  const isNumber = ctx.method === 'INVITE' && dialled !== undefined && /^\+?\d+$/.test(dialled);
  if (!isNumber) return defaults.onRequest(ctx);

  if (!ctx.sanityCheck()) return;
  ctx.looseRoute();
  if (ctx.request.route.length > 0) throw new SipReply(403, 'Forbidden (preloaded Route)');
  // trunks cost money: only local users who prove who they are
  const from = ctx.request.from.uri;
  if (from.kind !== 'sip' || !ctx.servesDomain(from.host)) throw new SipReply(403, 'Forbidden (trunks are for local users)');
  const user = await ctx.authenticate();
  if (user === undefined) return;
  if (ctx.rateLimited(5, 1, `trunk-calls:${user}`)) throw new SipReply(503, 'Service Unavailable (call rate)', [['Retry-After', '1']]);

  const found = routeFor(dialled);
  if (found === undefined) throw new SipReply(404, 'Not Found (no route for this number)');
  ctx.vars.route = found.route.name;
  ctx.vars.trunk = 0;
  ctx.vars.number = found.number;
  ctx.log('info', 'call to a trunk', { number: found.number, route: found.route.name, trunk: found.route.trunks[0] });
  ctx.recordRoute();
  ctx.relay(trunkUri(found.route.trunks[0]!, found.number));
}

/** The trunk failed: the next trunk of the route, while there is one. */
export function onFailure(ctx: FailureContext): void {
  const route = ROUTES.find((r) => r.name === ctx.vars.route);
  if (route === undefined || !FAILOVER(ctx.status)) return;
  const next = (ctx.vars.trunk as number) + 1;
  const trunk = route.trunks[next];
  if (trunk === undefined) return;
  ctx.vars.trunk = next;
  ctx.log('warn', 'trunk failed; trying the next one', { status: ctx.status, failed: route.trunks[next - 1], next: trunk });
  ctx.relay(trunkUri(trunk, ctx.vars.number as string));
}

/** Every trunk response says which trunk answered (for the caller's logs). */
export function onResponse(ctx: ReplyContext): void {
  const route = ROUTES.find((r) => r.name === ctx.vars.route);
  if (route !== undefined) ctx.addHeader('X-Parley-Trunk', route.trunks[ctx.vars.trunk as number] ?? '?');
}
