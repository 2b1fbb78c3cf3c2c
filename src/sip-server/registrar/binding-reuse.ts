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

/**
 * Every field of a binding, and whether `onlyRefreshes` compares it: a field added to
 * ContactBinding fails to compile here until it is compared there too.
 */
const FIELDS = {
  aor: 'compared', contact: 'compared', q: 'compared', callId: 'touched', path: 'compared', instance: 'compared', regId: 'compared',
  received: 'compared', sendTo: 'compared', connectionId: 'compared', node: 'compared', userAgent: 'compared',
  expires: 'touched', cseq: 'touched', updatedAt: 'touched',
} as const satisfies Record<keyof ContactBinding, 'compared' | 'touched'>;
void FIELDS;

/**
 * Whether `fresh` differs from `old` in nothing but `expires`, `cseq`, `updatedAt` and `callId` (a
 * phone that registers again with a new Call-ID, as sipp does): a refresh that the store and the
 * other threads' replicas can take as a touch (BindingTouch) instead of the whole binding.
 */
export function onlyRefreshes(fresh: ContactBinding, old: ContactBinding): boolean {
  return (
    fresh.aor === old.aor &&
    fresh.contact === old.contact &&
    fresh.q === old.q &&
    sameStrings(fresh.path, old.path) &&
    fresh.instance === old.instance &&
    fresh.regId === old.regId &&
    sameReceived(fresh.received, old.received) &&
    (fresh.sendTo ?? 'source') === (old.sendTo ?? 'source') &&
    fresh.connectionId === old.connectionId &&
    fresh.node === old.node &&
    fresh.userAgent === old.userAgent
  );
}

/** `old` refreshed by a touch: the same binding with new `expires`, `cseq`, `updatedAt` and `callId`. */
export function touched(old: ContactBinding, expires: number, cseq: number, updatedAt: number, callId: string): ContactBinding {
  return { ...old, expires, cseq, updatedAt, callId: old.callId === callId ? old.callId : callId };
}
