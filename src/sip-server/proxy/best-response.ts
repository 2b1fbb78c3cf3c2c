import type { SipResponse } from '../../sip/index.js';

/**
 * Choose the response a stateful proxy sends upstream once every branch is final (RFC 3261
 * §16.7 step 6): "The proxy MUST choose the response from the lowest response class … If a 6xx
 * class response is present, the proxy SHOULD choose it … If no final response has been
 * received, the proxy MUST send a 408 … Since 503 … the proxy SHOULD convert it to a 500."
 * Within a class Parley prefers a response that says something about the callee over a
 * timeout (408) or a server failure (5xx from 503 conversion), then the first received.
 * Returns undefined when there is nothing to choose (the caller sends 408).
 */
export function chooseBestResponse(finals: readonly SipResponse[]): SipResponse | undefined {
  const six = finals.find((r) => r.status >= 600);
  if (six) return six;
  let best: SipResponse | undefined;
  for (const r of finals) {
    if (r.status < 300) return r;
    if (best === undefined || rank(r) < rank(best)) best = r;
  }
  return best;
}

function rank(r: SipResponse): number {
  const cls = Math.floor(r.status / 100) * 1000;
  // prefer anything over a timeout or a downstream 503 inside the same class
  const weak = r.status === 408 || r.status === 503 ? 500 : 0;
  return cls + weak;
}

/**
 * 401 and 407 challenges of every branch are merged into the chosen one (§16.7 step 7: "the
 * proxy MUST collect any WWW-Authenticate and Proxy-Authenticate header field values from all
 * other 401 (Unauthorized) and 407 (Proxy Authentication Required) responses … and add them to
 * this response without modification"). Returns the header fields to add.
 */
export function challengesToMerge(chosen: SipResponse, finals: readonly SipResponse[]): Array<[string, string]> {
  if (chosen.status !== 401 && chosen.status !== 407) return [];
  const out: Array<[string, string]> = [];
  for (const r of finals) {
    if (r === chosen || (r.status !== 401 && r.status !== 407)) continue;
    for (const v of r.getAll('www-authenticate')) out.push(['WWW-Authenticate', v]);
    for (const v of r.getAll('proxy-authenticate')) out.push(['Proxy-Authenticate', v]);
  }
  return out;
}
