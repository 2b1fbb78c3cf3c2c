/**
 * Parley's default routing script: what a stock Kamailio configuration does (kamailio.cfg's
 * request_route with REQINIT, WITHINDLG, AUTH, REGISTRAR, LOCATION), and what Parley did before
 * routing became a script. Copy it to start your own: `parley serve --script my-routes.ts`.
 *
 *   every request   onStateless: OPTIONS pings to the server and digest challenges to requests
 *                   without credentials, answered before any transaction exists
 *   new request     sanity (483, 482, 420, 416; 420 for Require and 501 for an unknown method where
 *                   Parley is the UAS) → CANCEL → our Route entries → no preloaded Route (403)
 *                   → OPTIONS to the server → REGISTER: authenticate (401), save
 *                   → calls from a local user: authenticate (407, From must be the user)
 *                   → a served domain: location, fork by q; no contact: 480, or 404 for a user that
 *                     does not exist when the caller is authenticated (others get 480 for both, and
 *                     their probes for users that do not exist count as failures: enumeration)
 *                   → the server itself: 404 (200 for OPTIONS) → another domain: outbound route or 403
 *   in dialog       sanity → CANCEL → along a route we recorded and signed for the dialog and its target
 *                   (a Route naming us without our signature: 403) → OPTIONS to the server → 404
 */
import type { RequestContext, StatelessContext } from 'parley/routing';

/** Methods that create a dialog: their route is recorded (RFC 3261 §16.6 step 4). */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

/**
 * Answered without a transaction: an OPTIONS ping to the server itself, and the challenge of an
 * initial request that needs authentication but carries no credentials — the answers onRequest
 * would give, only cheaper. Whatever onRequest checks first (483, 482, 420, 416, in-dialog,
 * CANCEL, Route) is left to it.
 */
export function onStateless(ctx: StatelessContext): void {
  const { request, method } = ctx;
  if (method === 'ACK' || method === 'CANCEL' || request.to.tag !== undefined || request.has('route')) return;
  // what sanityCheck refuses (420 for Require and Proxy-Require among others) comes before any
  // challenge: the client learns what to drop before it is asked for credentials
  if (request.maxForwards === 0 || request.has('proxy-require') || request.has('require') || hasSeveralVias(request)) return;
  const ruri = ctx.ruri;
  if (ruri.kind !== 'sip') return;
  if (method === 'OPTIONS' && ruri.user === undefined && ctx.isLocal(ruri)) {
    ctx.replyOptions();
    return;
  }
  if (ctx.trusted) return;
  if (method !== 'REGISTER') {
    // only a caller who claims to be a local user is challenged
    const from = request.from.uri;
    if (from.kind !== 'sip' || !ctx.servesDomain(from.host)) return;
  }
  ctx.requireCredentials();
}

/** A request outside a dialog. */
export async function onRequest(ctx: RequestContext): Promise<void> {
  if (!ctx.sanityCheck()) return;
  if (ctx.method === 'CANCEL') {
    ctx.relay();
    return;
  }
  // our own Route entries go; any other on an initial request was not put there by us (no open relay)
  ctx.looseRoute();
  if (ctx.request.route.length > 0) {
    ctx.reply(403, 'Forbidden (preloaded Route)');
    return;
  }
  const ruri = ctx.ruri;
  if (ctx.method === 'OPTIONS' && ctx.isLocal(ruri) && (ruri.kind !== 'sip' || ruri.user === undefined)) {
    ctx.replyOptions();
    return;
  }

  if (ctx.method === 'REGISTER') {
    if (!ctx.trusted && (await ctx.authenticate()) === undefined) return;
    await ctx.save();
    return;
  }

  // a caller who claims to be a local user must prove it
  const from = ctx.request.from.uri;
  const fromLocal = from.kind === 'sip' && ctx.servesDomain(from.host);
  if (fromLocal && !ctx.trusted && (await ctx.authenticate()) === undefined) return;

  // a user of a served domain: the location service
  if (ruri.kind === 'sip' && ruri.user !== undefined && ctx.servesDomain(ruri.host)) {
    // a caller who has not shown who they are (From in another domain) learns nothing of who
    // our users are: a source blocked for failing too often is refused before the lookup
    const authenticated = fromLocal || ctx.trusted;
    if (!authenticated && ctx.isBlocked()) {
      ctx.reply(403);
      return;
    }
    if (ctx.lookup() === 0) {
      const exists = await ctx.userExists();
      if (authenticated) {
        // our own users may tell a mistyped name (404) from someone offline (480)
        ctx.reply(exists ? 480 : 404);
        return;
      }
      // RFC 3261 §16.5: "If the target set remains empty after applying all of the above, the
      // proxy MUST return an error response, which SHOULD be the 480 (Temporarily Unavailable)
      // response." The same answer for a user who does not exist (404 would name the users who
      // do), after the same lookups; the probe counts against its source, as a wrong password
      // does, so that a scanner walking through names gets blocked.
      if (!exists) ctx.countFailure();
      ctx.reply(480);
      return;
    }
    if (DIALOG_CREATING.has(ctx.method)) ctx.recordRoute();
    ctx.relay();
    return;
  }
  if (ruri.kind === 'sip' && ctx.isLocal(ruri)) {
    // a request for the server itself that it does not handle
    ctx.reply(ctx.method === 'OPTIONS' ? 200 : 404);
    return;
  }

  // another domain: only through a configured outbound route, and only for local, authenticated callers
  const outbound = ctx.outboundRoute(ruri.kind === 'sip' ? ruri.host : '');
  if (outbound !== undefined && (fromLocal || ctx.trusted)) {
    if (DIALOG_CREATING.has(ctx.method)) ctx.recordRoute();
    ctx.relay(ruri, { outboundProxy: outbound });
    return;
  }
  ctx.reply(403, 'Forbidden (relaying denied)');
}

/**
 * A request inside a dialog (a To tag), and the ACK of a 2xx: along the route we recorded, and
 * only that. A Route naming Parley is relayed only when it carries the signature Parley put in
 * its Record-Route for this dialog (`looseRoute()` is true): otherwise anyone could put
 * `Route: <sip:parley;lr>` and a To tag on a request to any Request-URI and have Parley send it
 * there (an open relay: spam, toll fraud from Parley's address). Such a request gets 403; one
 * that carries no Route of ours at all gets 404 (the dialog does not pass through Parley).
 */
export function onInDialog(ctx: RequestContext): void {
  if (ctx.method === 'ACK') {
    // end to end, statelessly (RFC 3261 §16.7 step 5 note); one for the server itself, or along
    // a route we did not record, is dropped (an ACK gets no response)
    if (ctx.looseRoute() && !ctx.isLocal(ctx.ruri)) ctx.relay();
    else ctx.drop();
    return;
  }
  if (!ctx.sanityCheck()) return;
  if (ctx.method === 'CANCEL') {
    // not routed by Route: it goes where its INVITE went (RFC 3261 §16.10)
    ctx.relay();
    return;
  }
  const followed = ctx.looseRoute();
  if (!ctx.isLocal(ctx.ruri)) {
    if (followed) {
      ctx.relay();
      return;
    }
    if (ctx.routeCheck !== 'none') {
      ctx.reply(403, 'Forbidden (Route not recorded for this dialog)');
      return;
    }
  } else if (ctx.method === 'OPTIONS') {
    ctx.replyOptions();
    return;
  }
  ctx.reply(404, 'Not Here');
}

/** More than one Via value, found without parsing any (request.via would parse every one). */
function hasSeveralVias(request: RequestContext['request']): boolean {
  const fields = request.getAll('via');
  if (fields.length !== 1) return fields.length > 1;
  // one field: several values only if it has a comma (then split it, minding quoted strings)
  return fields[0]!.includes(',') && request.list('via').length > 1;
}
