// Option values of `parley hep listen` and `parley hep export`: listener addresses and times.
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import type { ListenAddress } from '../../collector/index.js';

/** HEP's usual port (Homer's collector, heplify-server, Kamailio's sipcapture examples). */
export const HEP_PORT = 9060;
/** Where `parley hep listen` listens by default: loopback only (a collector on another interface is the operator's choice). */
export const HEP_DEFAULT_HOST = '127.0.0.1';
/** The capture database `parley hep listen` writes when --db is not given (in the working directory). */
export const HEP_DEFAULT_DB = 'hep-capture.db';

/** "HOST:PORT", "[IPv6]:PORT", "HOST" (port 9060) or "PORT" (on 127.0.0.1). Throws commander's InvalidArgumentError. */
export function parseHostPort(text: string): ListenAddress {
  const port = (p: string): number => {
    const n = Number(p);
    if (p === '' || !Number.isInteger(n) || n < 0 || n > 65535 || p.trim() !== p) throw new InvalidArgumentError(`${JSON.stringify(p)} is not a port (0-65535)`);
    return n;
  };
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new InvalidArgumentError(`${text}: no closing "]"`);
    const host = text.slice(1, close);
    if (isIP(host) !== 6) throw new InvalidArgumentError(`${host} is not an IPv6 address`);
    const rest = text.slice(close + 1);
    if (rest === '') return { host, port: HEP_PORT };
    if (!rest.startsWith(':')) throw new InvalidArgumentError(`${text}: expected ":PORT" after "]"`);
    return { host, port: port(rest.slice(1)) };
  }
  if (isIP(text) === 6) return { host: text, port: HEP_PORT };
  const colon = text.lastIndexOf(':');
  if (colon < 0) {
    if (isIP(text) === 4) return { host: text, port: HEP_PORT };
    return { host: HEP_DEFAULT_HOST, port: port(text) };
  }
  const host = text.slice(0, colon);
  if (host === '' || host.includes(':')) throw new InvalidArgumentError(`${text}: write an IPv6 address as [ADDRESS]:PORT`);
  return { host, port: port(text.slice(colon + 1)) };
}

/** A point in time: ISO 8601 (2026-12-07T10:00:00Z; without a zone: UTC) or seconds since 1970 (fractions allowed); microseconds since 1970. */
export function parseTimeArg(text: string): number {
  const t = text.trim();
  const n = Number(t);
  if (t !== '' && Number.isFinite(n)) return Math.round(n * 1_000_000);
  // Date.parse reads a date-time without a zone as local time: the export's times are UTC
  const hasZone = t.endsWith('Z') || t.endsWith('z') || /[+-]\d\d:?\d\d$/.test(t) || !t.includes('T');
  const ms = Date.parse(hasZone ? t : `${t}Z`);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a time (ISO 8601, e.g. 2026-12-07T10:00:00Z, or seconds since 1970)`);
  const fraction = t.match(/\.(\d+)/);
  // Date keeps milliseconds; digits past them (microseconds) are added back
  const extraUs = fraction && fraction[1]!.length > 3 ? Number(fraction[1]!.slice(3, 6).padEnd(3, '0')) : 0;
  return ms * 1000 + extraUs;
}

/** A whole number within [min, max]. */
export function parseCount(what: string, min: number, max: number): (text: string) => number {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${what}: a whole number ${min}-${max}`);
    return n;
  };
}
