/**
 * TURN credentials from Parley (`POST /phone/turn-credentials`, src/web/turn-credentials-route.ts):
 * the page logs in with the SIP account it registers with (HTTP Basic, over the page's own HTTPS
 * origin) and gets time-limited REST credentials and the TURN URLs, which it adds to the ICE
 * servers of `phone.iceServers`. No DOM: the Node tests run it with a stand-in `fetch`.
 */

/** The route's answer (draft-uberti-behave-turn-rest-00 §2.2). */
export interface TurnCredentials {
  readonly username: string;
  readonly password: string;
  /** Seconds. */
  readonly ttl: number;
  readonly uris: readonly string[];
}

export type TurnCredentialsResult =
  | { readonly ok: true; readonly credentials: TurnCredentials; /** ms since the epoch */ readonly expiresAt: number }
  /** `off`: the server runs no TURN (404); `refused`: 401/403/429; `failed`: anything else. */
  | { readonly ok: false; readonly reason: 'off' | 'refused' | 'failed'; readonly detail: string };

export const TURN_CREDENTIALS_PATH = '/phone/turn-credentials';

/** `Basic base64(user:password)`, UTF-8 (RFC 7617 §2.1, charset="UTF-8"). */
export function basicAuthorization(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

function isCredentials(v: unknown): v is TurnCredentials {
  const c = v as Partial<TurnCredentials> | null;
  return (
    typeof c === 'object' && c !== null && typeof c.username === 'string' && typeof c.password === 'string' && typeof c.ttl === 'number' && c.ttl > 0 && Array.isArray(c.uris) && c.uris.every((u) => typeof u === 'string')
  );
}

/** Ask Parley for credentials as `user` (`user@domain` for another domain than the server's). */
export async function fetchTurnCredentials(user: string, password: string, f: typeof fetch = fetch, now: () => number = Date.now, timeoutMs = 5000): Promise<TurnCredentialsResult> {
  let r: Response;
  try {
    r = await f(TURN_CREDENTIALS_PATH, { method: 'POST', headers: { authorization: basicAuthorization(user, password) }, cache: 'no-store', credentials: 'omit', signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    return { ok: false, reason: 'failed', detail: (e as Error).message };
  }
  if (r.status === 404) return { ok: false, reason: 'off', detail: 'the server runs no TURN server' };
  if (r.status === 401 || r.status === 403 || r.status === 429) {
    const body = (await r.json().catch(() => ({}))) as { error?: unknown };
    return { ok: false, reason: 'refused', detail: typeof body.error === 'string' ? body.error : `HTTP ${r.status}` };
  }
  if (!r.ok) return { ok: false, reason: 'failed', detail: `HTTP ${r.status}` };
  const body: unknown = await r.json().catch(() => undefined);
  if (!isCredentials(body)) return { ok: false, reason: 'failed', detail: 'the answer is not TURN credentials' };
  return { ok: true, credentials: body, expiresAt: now() + body.ttl * 1000 };
}

/** The credentials as an RTCIceServer (undefined when they name no URL). */
export function turnIceServer(c: TurnCredentials): { urls: string[]; username: string; credential: string } | undefined {
  return c.uris.length === 0 ? undefined : { urls: [...c.uris], username: c.username, credential: c.password };
}
