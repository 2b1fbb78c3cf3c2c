import { isIP } from 'node:net';
import { err, ok, type Result } from '../lib/result.js';
import { USER } from '../sip/grammar/chars.js';
import type { NewSubscriber } from './subscriber-store.js';

/** The field a problem is in, as a store error message and `parley user` name it. */
export type SubscriberField = 'username' | 'domain' | 'password';

/** What is wrong with one field of a subscriber. */
export interface SubscriberProblem {
  readonly field: SubscriberField;
  readonly problem: string;
}

export const MAX_USERNAME_LENGTH = 128;
export const MAX_DOMAIN_LENGTH = 253;
export const MAX_PASSWORD_LENGTH = 1024;

const USER_CHARS_TEXT = "letters, digits and - _ . ! ~ * ' ( ) & = + $ , ; ? /";

/**
 * Check a username. The rule: 1 to 128 characters, each one the RFC 3261 §25.1 `user` grammar
 * allows unescaped (`unreserved / user-unreserved`): ASCII letters and digits and
 * `- _ . ! ~ * ' ( ) & = + $ , ; ? /`. So no whitespace, `:`, `@`, non-ASCII or control characters,
 * and no `%`: a username is stored as the phone sends it in the digest `username`, unescaped, and
 * allowing `%HH` would give one user two spellings. Case is kept (usernames compare case-sensitively).
 */
export function checkUsername(username: string): Result<string, string> {
  if (username.length === 0) return err('must not be empty');
  if (username.length > MAX_USERNAME_LENGTH) return err(`must be at most ${MAX_USERNAME_LENGTH} characters (has ${username.length})`);
  for (const ch of username) {
    const c = ch.codePointAt(0)!;
    if (c < 128 && USER[c] === 1 && c !== 0x25) continue;
    if (/\s/u.test(ch)) return err('must not contain whitespace');
    if (ch === '%') return err("must not contain '%' (write the username unescaped)");
    if (c < 0x20 || c === 0x7f) return err('must not contain control characters');
    return err(`must not contain ${JSON.stringify(ch)} (allowed: ${USER_CHARS_TEXT})`);
  }
  return ok(username);
}

/**
 * Check a domain and return its canonical form: lower-case; an IPv6 address in brackets as in a SIP
 * URI (`[2001:db8::1]`, brackets optional on input). A domain is a host name (dot-separated labels
 * of 1 to 63 letters, digits, `-` and `_`, no label starting or ending with `-`, the last label not
 * all digits), an IPv4 address or an IPv6 address; at most 253 characters, no trailing dot.
 */
export function checkDomain(domain: string): Result<string, string> {
  if (domain.length === 0) return err('must not be empty');
  if (domain.length > MAX_DOMAIN_LENGTH) return err(`must be at most ${MAX_DOMAIN_LENGTH} characters (has ${domain.length})`);
  const lower = domain.toLowerCase();
  const bare = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  if (isIP(bare) === 6) return ok(`[${bare}]`);
  if (bare !== lower) return err('must be an IPv6 address inside [ ]');
  if (isIP(lower) === 4) return ok(lower);
  if (/\s/u.test(lower)) return err('must not contain whitespace');
  if (lower.endsWith('.')) return err("must not end with '.'");
  const labels = lower.split('.');
  for (const label of labels) {
    if (label.length === 0) return err('must not have an empty label (two dots, or a leading dot)');
    if (label.length > 63) return err(`label ${JSON.stringify(label.slice(0, 16) + '…')} is longer than 63 characters`);
    // DEVIATION(RFC 3261 §25.1): "_" is accepted in host names, as src/sip/grammar/uri.ts does.
    const bad = /[^a-z0-9_-]/u.exec(label);
    if (bad) return err(`must be a host name or an IP address (${JSON.stringify(bad[0])} is not allowed)`);
    if (label.startsWith('-') || label.endsWith('-')) return err(`label ${JSON.stringify(label)} must not start or end with '-'`);
  }
  if (/^[0-9]+$/u.test(labels[labels.length - 1]!)) return err('must be a host name or an IP address (not a valid IPv4 address)');
  return ok(lower);
}

/** Check a clear password: 1 to 1024 characters, no control characters (they cannot be typed or sent in one line). */
export function checkPassword(password: string): Result<string, string> {
  if (password.length === 0) return err('must not be empty');
  if (password.length > MAX_PASSWORD_LENGTH) return err(`must be at most ${MAX_PASSWORD_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/u.test(password)) return err('must not contain control characters (such as a line break or tab)');
  return ok(password);
}

/**
 * Check a subscriber to add and return it in canonical form (domain lower-case), or the first
 * problem (username, then domain, then password).
 */
export function checkSubscriber(subscriber: NewSubscriber): Result<NewSubscriber, SubscriberProblem> {
  const username = checkUsername(subscriber.username);
  if (!username.ok) return err({ field: 'username', problem: username.error });
  const domain = checkDomain(subscriber.domain);
  if (!domain.ok) return err({ field: 'domain', problem: domain.error });
  const password = checkPassword(subscriber.password);
  if (!password.ok) return err({ field: 'password', problem: password.error });
  return ok({ username: subscriber.username, domain: domain.value, password: subscriber.password });
}
