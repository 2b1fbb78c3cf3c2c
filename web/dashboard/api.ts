import { FEED_TYPES } from './events.js';
/** The REST API as the dashboard calls it: bearer token, JSON, errors with the API's message. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function answer<T>(res: Response): Promise<T> {
  if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: unknown; message?: unknown };
    if (typeof body.error === 'string') message = body.error;
    else if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: the status says it
  }
  throw new ApiError(res.status, message);
}

export class Api {
  constructor(readonly token: string) {}

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, accept: 'application/json' };
  }

  async get<T>(path: string): Promise<T> {
    return answer<T>(await fetch(`/api/v1${path}`, { headers: this.headers(), cache: 'no-store' }));
  }

  async delete(path: string): Promise<void> {
    await answer<void>(await fetch(`/api/v1${path}`, { method: 'DELETE', headers: this.headers() }));
  }

  /**
   * The live event stream (`/api/v1/events`) of the feed's types: WebSocket, the token in the
   * query (browsers cannot set headers on one).
   */
  eventSocket(): WebSocket {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return new WebSocket(`${scheme}://${location.host}/api/v1/events?types=${FEED_TYPES.join(',')}&token=${encodeURIComponent(this.token)}`);
  }
}

/** Log in as an administrator subscriber: an admin-scope token for 12 h. */
export async function createSession(username: string, domain: string, password: string): Promise<{ token: string; expiresAt: string }> {
  const body = { username, password, ...(domain === '' ? {} : { domain }) };
  return answer(await fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) }));
}
