import type { Flow } from '../../sip/index.js';
import type { ContactBinding } from '../../store/binding-store.js';

/*
 * A refresh keeps the strings and objects of the binding it replaces wherever the values are
 * equal: a binding lives until the next refresh, seconds to an hour, so whatever it holds is
 * copied into V8's old generation and marked there, and fresh copies of the same values at every
 * refresh were most of what a REGISTER left for the garbage collector. The registrar does it as
 * it makes a binding (registrar.ts), a replica with the bindings other workers send it
 * (location-service.ts, applyRemote).
 */

/** The same strings in the same order. */
export function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether a binding's `received` is where `source` is. */
export function cameFrom(r: ContactBinding['received'], source: Flow): boolean {
  return r.transport === source.transport && r.address === source.remoteAddress && r.port === source.remotePort && r.localAddress === source.localAddress && r.localPort === source.localPort;
}

function sameReceived(a: ContactBinding['received'], b: ContactBinding['received']): boolean {
  return a.transport === b.transport && a.address === b.address && a.port === b.port && a.localAddress === b.localAddress && a.localPort === b.localPort;
}

/**
 * `fresh` (a binding received from another thread: every string a new copy) with the strings and
 * objects of `old`, the binding of the same contact it replaces, wherever the values are equal.
 */
export function sharing(fresh: ContactBinding, old: ContactBinding): ContactBinding {
  return {
    ...fresh,
    aor: old.aor === fresh.aor ? old.aor : fresh.aor,
    contact: old.contact,
    callId: old.callId === fresh.callId ? old.callId : fresh.callId,
    path: sameStrings(fresh.path, old.path) ? old.path : fresh.path,
    ...(fresh.instance !== undefined && fresh.instance === old.instance ? { instance: old.instance } : {}),
    received: sameReceived(fresh.received, old.received) ? old.received : fresh.received,
    node: old.node === fresh.node ? old.node : fresh.node,
    ...(fresh.userAgent !== undefined && fresh.userAgent === old.userAgent ? { userAgent: old.userAgent } : {}),
  };
}
