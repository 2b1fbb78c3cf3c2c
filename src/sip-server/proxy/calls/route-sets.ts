/**
 * The two route sets of a call Parley record-routed, as seen from Parley: the Route values a
 * request must carry on from Parley towards each side (the part of that side's peer's route set
 * beyond Parley's own entries). Read from the Record-Route of the 2xx that answered the INVITE,
 * which holds every proxy's entry, the one nearest the callee first.
 *
 * RFC 3261 §12.1.2 (the caller): "The route set MUST be set to the list of URIs in the
 * Record-Route header field from the response, taken in reverse order and preserving all URI
 * parameters." RFC 3261 §12.1.1 (the callee): "The route set MUST be set to the list of URIs in
 * the Record-Route header field from the request, taken in order and preserving all URI
 * parameters." The 2xx echoes the request's Record-Route (§12.1.1: "the UAS MUST copy all
 * Record-Route header field values from the request into the response").
 */
export interface RouteSets {
  /** Route values for a request Parley sends on towards the callee, in order (the caller's set after Parley). */
  readonly towardsCallee: readonly string[];
  /** Route values for a request Parley sends on towards the caller, in order (the callee's set after Parley). */
  readonly towardsCaller: readonly string[];
}

/**
 * `recordRoute`: the 2xx's Record-Route values in order (name-addr texts); `isOurs` tells
 * Parley's own entries (one, or two of a double Record-Route, RFC 5658). Undefined when none of
 * them is Parley's: the dialog's requests do not pass Parley, and it cannot build its own.
 */
export function routeSetsOf(recordRoute: readonly string[], isOurs: (entry: string) => boolean): RouteSets | undefined {
  let first = -1;
  let last = -1;
  for (let i = 0; i < recordRoute.length; i++) {
    if (!isOurs(recordRoute[i]!)) continue;
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0) return undefined;
  return {
    // the caller's set is the list reversed: after Parley come the entries above Parley's, nearest first
    towardsCallee: recordRoute.slice(0, first).reverse(),
    // the callee's set is the list in order: after Parley come the entries below Parley's
    towardsCaller: recordRoute.slice(last + 1),
  };
}
