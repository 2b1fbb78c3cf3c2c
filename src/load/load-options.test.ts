import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fdLimitProblem, readFdLimit } from './fd-limit.js';
import { LoadUsageError, parseLoadOptions, type RawLoadOptions } from './load-options.js';
import { isLoopbackAddress, nonLoopbackReason } from './loopback.js';
import { UserPattern } from './user-pattern.js';

const T = { target: 'wss://127.0.0.1:8443/sip' };
const parse = (raw: RawLoadOptions, files: Record<string, string> = {}) =>
  parseLoadOptions(raw, (p) => {
    if (!(p in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return files[p]!;
  });

describe('parseLoadOptions', () => {
  it('defaults: 100 users at 100/s, user%06d from 1, domain = host:port, duration = 2 ramps + hold + 120 s', () => {
    const o = parse(T);
    assert.equal(o.transport, 'wss');
    assert.equal(o.host, '127.0.0.1');
    assert.equal(o.port, 8443);
    assert.equal(o.users, 100);
    assert.equal(o.rate, 100);
    assert.equal(o.userPattern.format(o.first), 'user000001');
    assert.equal(o.domain, '127.0.0.1:8443');
    assert.equal(o.password, undefined);
    assert.equal(o.expires, 600);
    assert.equal(o.keepalive, 'ping');
    assert.equal(o.durationSeconds, 2 * 1 + 0 + 120);
    assert.ok(o.durationDefaulted);
  });

  it('reads every option', () => {
    const o = parse(
      {
        target: 'ws://[::1]/sip',
        users: '10_000',
        rate: '500/s',
        userPattern: 'u%d@x',
        first: '0',
        domain: 'example.com',
        passwordFile: '/pw',
        algorithm: 'sha-256',
        hold: '2m',
        duration: '1h',
        expires: '120',
        keepalive: 'crlf',
        keepaliveInterval: '15',
        timeout: '10s',
        maxPending: '50',
        unregister: true,
        insecure: true,
        json: true,
      },
      { '/pw': 's3cret\nignored second line\n' },
    );
    assert.equal(o.transport, 'ws');
    assert.equal(o.host, '::1');
    assert.equal(o.port, 80);
    assert.equal(o.users, 10_000);
    assert.equal(o.rate, 500);
    assert.equal(o.userPattern.format(o.first + 41), 'u41@x');
    assert.equal(o.domain, 'example.com');
    assert.equal(o.password, 's3cret');
    assert.equal(o.algorithm, 'SHA-256');
    assert.equal(o.holdSeconds, 120);
    assert.equal(o.durationSeconds, 3600);
    assert.equal(o.expires, 120);
    assert.equal(o.keepalive, 'crlf');
    assert.equal(o.keepaliveIntervalSeconds, 15);
    assert.equal(o.timeoutSeconds, 10);
    assert.equal(o.maxPending, 50);
    assert.ok(o.unregister && o.insecure && o.json);
    assert.equal(parse({ target: 'ws://[::1]:8080' }).domain, '[::1]:8080');
  });

  it('UDP: udp://HOST:PORT, or --transport udp with HOST:PORT; port 5060 by default; no keepalive', () => {
    const a = parse({ target: 'udp://127.0.0.1:5080' });
    assert.equal(a.transport, 'udp');
    assert.equal(a.port, 5080);
    assert.equal(a.domain, '127.0.0.1:5080');
    assert.equal(a.keepalive, 'none');
    assert.equal(a.target, 'udp://127.0.0.1:5080');
    const b = parse({ target: '127.0.0.1', transport: 'udp' });
    assert.equal(b.transport, 'udp');
    assert.equal(b.port, 5060);
    assert.equal(b.target, 'udp://127.0.0.1');
    assert.equal(parse({ target: 'localhost:8443/sip', transport: 'wss' }).transport, 'wss');
  });

  const bad: Array<[string, RawLoadOptions, RegExp]> = [
    ['a transport that does not match the target', { target: 'wss://127.0.0.1/sip', transport: 'udp' }, /--transport udp does not match/],
    ['an unknown transport', { target: '127.0.0.1:5060', transport: 'sctp' }, /--transport "sctp"/],
    ['a keepalive over UDP', { target: 'udp://127.0.0.1:5060', keepalive: 'ping' }, /over UDP, RFC 5626 §4.4.2 keeps flows alive with STUN/],
    ['a path on a UDP target', { target: 'udp://127.0.0.1:5060/sip' }, /a udp:\/\/ target has no path/],
    ['no target', {}, /--target is required/],
    ['not a URL', { target: 'localhost:8443' }, /scheme must be wss: or ws:|not a URL/],
    ['http scheme', { target: 'https://127.0.0.1/sip' }, /scheme must be wss: or ws: .* or udp:/],
    ['credentials in the URL', { target: 'wss://a:b@127.0.0.1/sip' }, /must not carry credentials/],
    ['zero users', { ...T, users: '0' }, /--users 0: must be from 1 to 1000000/],
    ['users not a number', { ...T, users: 'ten' }, /--users "ten": expected a whole number/],
    ['fractional users', { ...T, users: '1.5' }, /--users "1.5"/],
    ['too many users', { ...T, users: '2000000' }, /--users 2000000/],
    ['rate 0', { ...T, rate: '0' }, /--rate "0"/],
    ['rate with a bad unit', { ...T, rate: '10/min' }, /--rate "10\/min"/],
    ['pattern without %d', { ...T, userPattern: 'alice' }, /exactly one %d/],
    ['pattern with two %d', { ...T, userPattern: 'u%d-%d' }, /exactly one %d .*, found 2/],
    ['pattern with %s', { ...T, userPattern: 'u%s' }, /"%s" is not supported/],
    ['bad domain', { ...T, domain: 'exa mple.com' }, /--domain "exa mple.com"/],
    ['both passwords', { ...T, password: 'a', passwordFile: '/pw' }, /not both/],
    ['missing password file', { ...T, passwordFile: '/nope' }, /--password-file \/nope: ENOENT/],
    ['bad algorithm', { ...T, algorithm: 'SHA-512' }, /--algorithm "SHA-512"/],
    ['bad hold', { ...T, hold: '5 minutes' }, /--hold "5 minutes": expected seconds/],
    ['duration below hold', { ...T, hold: '60', duration: '30' }, /shorter than --hold/],
    ['expires 0', { ...T, expires: '0' }, /--expires 0: must be from 1 to 86400/],
    ['bad keepalive', { ...T, keepalive: 'tcp' }, /--keepalive "tcp"/],
    ['timeout too long', { ...T, timeout: '1h' }, /--timeout 1h: must be from 1 s to 300 s/],
    ['max-pending 0', { ...T, maxPending: '0' }, /--max-pending 0/],
  ];
  for (const [name, raw, message] of bad) {
    it(`refuses ${name} with a message naming the option`, () => {
      assert.throws(
        () => parse(raw, { '/pw': '' }),
        (e: unknown) => e instanceof LoadUsageError && message.test(e.message),
      );
    });
  }

  it('refuses an empty first line in the password file', () => {
    assert.throws(() => parse({ ...T, passwordFile: '/pw' }, { '/pw': '\nsecret' }), /first line is empty/);
  });
});

describe('UserPattern', () => {
  it('formats %d, %06d, %6d and %% as printf does', () => {
    const f = (p: string, n: number): string => (UserPattern.parse(p) as UserPattern).format(n);
    assert.equal(f('user%06d', 1), 'user000001');
    assert.equal(f('user%06d', 1234567), 'user1234567');
    assert.equal(f('u%d', 42), 'u42');
    assert.equal(f('u%4d', 7), 'u   7');
    assert.equal(f('100%%-%d', 3), '100%-3');
  });
});

describe('loopback check', () => {
  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.ok(isLoopbackAddress(a), a);
    for (const a of ['10.0.0.1', '128.0.0.1', '::2', '1::1', '::ffff:10.0.0.1', 'localhost', '']) assert.ok(!isLoopbackAddress(a), a);
  });

  it('accepts a name that resolves only to loopback addresses, refuses one that does not', async () => {
    const lookup = async (host: string): Promise<string[]> =>
      ({ localhost: ['127.0.0.1', '::1'], mixed: ['127.0.0.1', '192.0.2.7'], remote: ['198.51.100.1'] })[host] ??
      Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    assert.equal(await nonLoopbackReason('localhost', lookup), undefined);
    assert.equal(await nonLoopbackReason('127.0.0.1', lookup), undefined);
    assert.match((await nonLoopbackReason('mixed', lookup))!, /resolves to 192\.0\.2\.7, not a loopback address/);
    assert.match((await nonLoopbackReason('remote', lookup))!, /198\.51\.100\.1/);
    assert.match((await nonLoopbackReason('192.0.2.1', lookup))!, /192\.0\.2\.1 is not a loopback address/);
    assert.match((await nonLoopbackReason('nowhere.invalid', lookup))!, /does not resolve \(ENOTFOUND\)/);
  });
});

describe('open-files limit', () => {
  const limits = (soft: string, hard: string): string =>
    `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                ${hard}                files\n`;

  it('reads /proc/self/limits, "unlimited" as Infinity', () => {
    assert.deepEqual(readFdLimit(limits('1024', '4096')), { soft: 1024, hard: 4096 });
    assert.deepEqual(readFdLimit(limits('unlimited', 'unlimited')), { soft: Infinity, hard: Infinity });
    assert.equal(readFdLimit('nothing here'), undefined);
    assert.ok(readFdLimit() === undefined || readFdLimit()!.soft > 0, 'this process has a limit');
  });

  it('says how to raise it when the users do not fit', () => {
    assert.equal(fdLimitProblem(900, { soft: 1024, hard: 4096 }), undefined);
    assert.match(fdLimitProblem(1000, { soft: 1024, hard: 4096 })!, /1000 connections need about 1064 open files, but this process may open only 1024 \(ulimit -n\); raise it in this shell first: ulimit -n 1064/);
    assert.match(fdLimitProblem(10_000, { soft: 1024, hard: 4096 })!, /the hard limit is 4096: raise it \(as root/);
    assert.equal(fdLimitProblem(10_000, undefined), undefined);
  });
});
