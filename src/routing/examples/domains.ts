/**
 * Example routing script: each domain has its own policy.
 *
 *   example.com          our users: registrar and location (as the default script)
 *   sales.example.com    a hosted PBX: calls to it go to the PBX, from anyone; it does not register here
 *   partner.example.org  a peer: reached through its SBC, only by our authenticated users
 *   anything else        403
 *
 * Serve the first two (`sip.domains: [example.com, sales.example.com]`), then
 * `parley serve --script src/routing/examples/domains.ts`.
 */
import { SipReply, type RequestContext } from 'parley/routing';
import * as defaults from '../scripts/default.js';

export { onStateless, onInDialog } from '../scripts/default.js';

type Policy =
  | { readonly kind: 'local' }
  | { readonly kind: 'pbx'; readonly pbx: string; readonly port?: number }
  | { readonly kind: 'peer'; readonly sbc: string };

const DOMAINS: Readonly<Record<string, Policy>> = {
  'example.com': { kind: 'local' },
  'sales.example.com': { kind: 'pbx', pbx: '203.0.113.5', port: 5080 },
  'partner.example.org': { kind: 'peer', sbc: 'sip:203.0.113.50;transport=tcp' },
};

export const dumpVars = ['domain', 'policy'];

export async function onRequest(ctx: RequestContext): Promise<void> {
  const ruri = ctx.ruri;
  const domain = ruri.kind === 'sip' ? ruri.host.toLowerCase() : undefined;
  const policy = domain === undefined ? undefined : DOMAINS[domain];
  ctx.vars.domain = domain ?? null;
  ctx.vars.policy = policy?.kind ?? 'none';
  // our own users, registrations, OPTIONS and requests to the server itself: the default rules
  if (policy === undefined || policy.kind === 'local' || ctx.method === 'REGISTER') {
    if (policy === undefined && domain !== undefined && !ctx.isLocal(ruri)) throw new SipReply(403, `Forbidden (no route to ${domain})`);
    return defaults.onRequest(ctx);
  }
  if (!ctx.sanityCheck()) return;
  if (ctx.method === 'CANCEL') return ctx.relay();
  ctx.looseRoute();
  if (ctx.request.route.length > 0) throw new SipReply(403, 'Forbidden (preloaded Route)');

  if (policy.kind === 'pbx') {
    // anyone may call the PBX's users; the PBX does its own policy
    ctx.setRuriHost(policy.pbx, policy.port);
    if (ctx.method === 'INVITE' || ctx.method === 'SUBSCRIBE') ctx.recordRoute();
    ctx.relay();
    return;
  }
  // a peer costs: our users only, authenticated
  const from = ctx.request.from.uri;
  if (from.kind !== 'sip' || !ctx.servesDomain(from.host)) throw new SipReply(403, 'Forbidden (peering is for local users)');
  if ((await ctx.authenticate()) === undefined) return;
  if (ctx.method === 'INVITE') ctx.recordRoute();
  ctx.relay(ruri, { outboundProxy: policy.sbc });
}
