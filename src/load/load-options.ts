import { readFileSync } from 'node:fs';
import { digestAlgorithmOf, type DigestAlgorithm } from '../sip/digest/hash.js';
import type { LoadTransport } from './client-connection.js';
import { UserPattern } from './user-pattern.js';

/** The options of `parley load` as commander hands them over (strings and flags). */
export interface RawLoadOptions {
  readonly target?: string;
  readonly transport?: string;
  readonly users?: string;
  readonly rate?: string;
  readonly userPattern?: string;
  readonly first?: string;
  readonly domain?: string;
  readonly password?: string;
  readonly passwordFile?: string;
  readonly algorithm?: string;
  readonly hold?: string;
  readonly duration?: string;
  readonly expires?: string;
  readonly keepalive?: string;
  readonly keepaliveInterval?: string;
  readonly timeout?: string;
  readonly maxPending?: string;
  readonly unregister?: boolean;
  readonly insecure?: boolean;
  readonly allowRemote?: boolean;
  readonly json?: boolean;
}

/** A checked `parley load` configuration. */
export interface LoadOptions {
  /** The target URL: ws://, wss:// (a WebSocket URL) or udp://HOST:PORT. */
  readonly target: string;
  readonly transport: LoadTransport;
  /** Host of the target, without brackets. */
  readonly host: string;
  readonly port: number;
  readonly users: number;
  readonly rate: number;
  readonly userPattern: UserPattern;
  readonly first: number;
  readonly domain: string;
  readonly password: string | undefined;
  readonly algorithm: DigestAlgorithm | undefined;
  readonly holdSeconds: number;
  readonly durationSeconds: number;
  /** The duration was computed, not given. */
  readonly durationDefaulted: boolean;
  readonly expires: number;
  readonly keepalive: 'ping' | 'crlf' | 'none';
  readonly keepaliveIntervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly maxPending: number;
  readonly unregister: boolean;
  readonly insecure: boolean;
  readonly allowRemote: boolean;
  readonly json: boolean;
}

/** A bad option: the message names it and says what is expected. */
export class LoadUsageError extends Error {
  override readonly name = 'LoadUsageError';
}

export const LOAD_DEFAULTS = {
  users: 100,
  rate: 100,
  userPattern: 'user%06d',
  first: 1,
  hold: 0,
  expires: 600,
  keepalive: 'ping',
  keepaliveInterval: 30,
  timeout: 32,
  maxPending: 1000,
} as const;

/** Largest --users: one process holds this many connections at most. */
export const MAX_USERS = 1_000_000;

/**
 * Check the raw options and give them types. Throws LoadUsageError naming the first bad option.
 * Whether the target is a loopback address is checked separately (it may need a DNS lookup):
 * loopback.ts.
 */
export function parseLoadOptions(raw: RawLoadOptions, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): LoadOptions {
  if (raw.target === undefined) throw new LoadUsageError('--target is required, e.g. --target wss://127.0.0.1:8443/sip');
  if (raw.transport !== undefined && !['ws', 'wss', 'udp'].includes(raw.transport)) {
    throw new LoadUsageError(`--transport "${raw.transport}": expected wss, ws or udp`);
  }
  // "--transport udp --target 127.0.0.1:5060" is "--target udp://127.0.0.1:5060"
  const targetText = raw.transport !== undefined && !raw.target.includes('://') ? `${raw.transport}://${raw.target}` : raw.target;
  let url: URL;
  try {
    url = new URL(targetText);
  } catch {
    throw new LoadUsageError(`--target "${raw.target}" is not a URL; expected wss://HOST:PORT/PATH, ws://HOST:PORT/PATH or udp://HOST:PORT`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:' && url.protocol !== 'udp:') {
    throw new LoadUsageError(`--target "${raw.target}": the scheme must be wss: or ws: (SIP over WebSocket, RFC 7118) or udp:, not ${url.protocol}`);
  }
  if (url.hostname === '') throw new LoadUsageError(`--target "${raw.target}" has no host`);
  if (url.username !== '' || url.password !== '') throw new LoadUsageError('--target must not carry credentials; use --password or --password-file');
  const transport: LoadTransport = url.protocol === 'wss:' ? 'wss' : url.protocol === 'ws:' ? 'ws' : 'udp';
  if (raw.transport !== undefined && raw.transport !== transport) {
    throw new LoadUsageError(`--transport ${raw.transport} does not match --target ${raw.target} (${transport})`);
  }
  if (transport === 'udp' && url.pathname !== '' && url.pathname !== '/') throw new LoadUsageError(`--target "${raw.target}": a udp:// target has no path`);
  const port = url.port === '' ? (transport === 'wss' ? 443 : transport === 'ws' ? 80 : 5060) : Number(url.port);
  const host = url.hostname.replace(/^\[|\]$/g, '');

  const users = integer('--users', raw.users, LOAD_DEFAULTS.users, 1, MAX_USERS);
  const rate = rateOf(raw.rate);
  const patternText = raw.userPattern ?? LOAD_DEFAULTS.userPattern;
  const pattern = UserPattern.parse(patternText);
  if (typeof pattern === 'string') throw new LoadUsageError(`--user-pattern "${patternText}": ${pattern}`);
  const first = integer('--first', raw.first, LOAD_DEFAULTS.first, 0, Number.MAX_SAFE_INTEGER - MAX_USERS);

  const domain = raw.domain ?? (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(domain)) {
    throw new LoadUsageError(`--domain "${domain}" is not a host or host:port`);
  }

  if (raw.password !== undefined && raw.passwordFile !== undefined) throw new LoadUsageError('give --password or --password-file, not both');
  let password = raw.password;
  if (raw.passwordFile !== undefined) {
    let text: string;
    try {
      text = readFile(raw.passwordFile);
    } catch (e) {
      throw new LoadUsageError(`--password-file ${raw.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    password = text.split(/\r?\n/, 1)[0] ?? '';
    if (password === '') throw new LoadUsageError(`--password-file ${raw.passwordFile}: the first line is empty`);
  }

  let algorithm: DigestAlgorithm | undefined;
  if (raw.algorithm !== undefined) {
    algorithm = digestAlgorithmOf(raw.algorithm);
    if (algorithm === undefined) throw new LoadUsageError(`--algorithm "${raw.algorithm}": expected MD5 or SHA-256`);
  }

  const holdSeconds = seconds('--hold', raw.hold, LOAD_DEFAULTS.hold, 0);
  const expires = integer('--expires', raw.expires, LOAD_DEFAULTS.expires, 1, 86_400);
  const keepalive = raw.keepalive ?? (transport === 'udp' ? 'none' : LOAD_DEFAULTS.keepalive);
  if (keepalive !== 'ping' && keepalive !== 'crlf' && keepalive !== 'none') {
    throw new LoadUsageError(`--keepalive "${keepalive}": expected ping (WebSocket Ping), crlf (RFC 5626 CRLF) or none`);
  }
  if (transport === 'udp' && keepalive !== 'none') {
    throw new LoadUsageError(`--keepalive ${keepalive} is for connections; over UDP, RFC 5626 §4.4.2 keeps flows alive with STUN, which parley load does not send (use --keepalive none)`);
  }
  const keepaliveIntervalSeconds = seconds('--keepalive-interval', raw.keepaliveInterval, LOAD_DEFAULTS.keepaliveInterval, 1, 3600);
  const timeoutSeconds = seconds('--timeout', raw.timeout, LOAD_DEFAULTS.timeout, 1, 300);
  const maxPending = integer('--max-pending', raw.maxPending, LOAD_DEFAULTS.maxPending, 1, MAX_USERS);

  // bounded in time whatever happens: by default twice the ramp, the hold and two minutes
  const rampSeconds = Math.ceil(users / rate);
  const durationDefaulted = raw.duration === undefined;
  const durationSeconds = durationDefaulted ? 2 * rampSeconds + holdSeconds + 120 : seconds('--duration', raw.duration, 0, 1, 7 * 86_400);
  if (!durationDefaulted && durationSeconds < holdSeconds) {
    throw new LoadUsageError(`--duration ${durationSeconds} s is shorter than --hold ${holdSeconds} s`);
  }

  return {
    target: url.protocol === 'udp:' ? `udp://${url.host}` : raw.target,
    transport,
    host,
    port,
    users,
    rate,
    userPattern: pattern,
    first,
    domain,
    password,
    algorithm,
    holdSeconds,
    durationSeconds,
    durationDefaulted,
    expires,
    keepalive,
    keepaliveIntervalSeconds,
    timeoutSeconds,
    maxPending,
    unregister: raw.unregister === true,
    insecure: raw.insecure === true,
    allowRemote: raw.allowRemote === true,
    json: raw.json === true,
  };
}

function integer(name: string, text: string | undefined, def: number, min: number, max: number): number {
  if (text === undefined) return def;
  const t = text.replace(/_/g, '');
  if (!/^\d+$/.test(t)) throw new LoadUsageError(`${name} "${text}": expected a whole number from ${min} to ${max}`);
  const v = Number(t);
  if (v < min || v > max) throw new LoadUsageError(`${name} ${text}: must be from ${min} to ${max}`);
  return v;
}

/** `200`, `200/s`, `12.5`: registrations per second, > 0 and at most 100,000. */
function rateOf(text: string | undefined): number {
  if (text === undefined) return LOAD_DEFAULTS.rate;
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(text.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!m || !(v > 0) || v > 100_000) throw new LoadUsageError(`--rate "${text}": expected registrations per second, e.g. 200 or 200/s (more than 0, at most 100000)`);
  return v;
}

/** `90`, `90s`, `15m`, `1h` → seconds. */
function seconds(name: string, text: string | undefined, def: number, min: number, max = Infinity): number {
  if (text === undefined) return def;
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!m) throw new LoadUsageError(`${name} "${text}": expected seconds, e.g. 90, 90s, 15m or 1h`);
  const v = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  if (v < min || v > max) throw new LoadUsageError(`${name} ${text}: must be from ${min} s${max === Infinity ? '' : ` to ${max} s`}`);
  return v;
}
