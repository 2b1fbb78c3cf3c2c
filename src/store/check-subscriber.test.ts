import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkDomain, checkPassword, checkSubscriber, checkUsername } from './check-subscriber.js';

describe('checkUsername', () => {
  it('accepts the RFC 3261 user characters, case kept', () => {
    for (const u of ['alice', 'Alice.Smith', '1000', "a-b_c.d!e~f*g'h(i)j", 'a&b=c+d$e,f;g?h/i', 'x'.repeat(128)]) {
      assert.deepEqual(checkUsername(u), { ok: true, value: u }, u);
    }
  });

  it('says what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /must not be empty/],
      ['x'.repeat(129), /at most 128 characters \(has 129\)/],
      ['al ice', /whitespace/],
      ['al\tice', /whitespace/],
      ['alice:pw', /":"/],
      ['alice@example.com', /"@"/],
      ['a%40b', /'%'.*unescaped/],
      ['jörg', /"ö"/],
      ['a\u0000b', /control/],
      ['<alice>', /"<"/],
    ];
    for (const [u, re] of cases) {
      const r = checkUsername(u);
      assert.equal(r.ok, false, u);
      if (!r.ok) assert.match(r.error, re, u);
    }
  });
});

describe('checkDomain', () => {
  it('lower-cases host names and IP addresses, and brackets IPv6', () => {
    const cases: Array<[string, string]> = [
      ['Example.COM', 'example.com'],
      ['localhost', 'localhost'],
      ['sip_1.example.com', 'sip_1.example.com'],
      ['a-b.c0', 'a-b.c0'],
      ['192.0.2.1', '192.0.2.1'],
      ['2001:DB8::1', '[2001:db8::1]'],
      ['[::1]', '[::1]'],
    ];
    for (const [d, want] of cases) assert.deepEqual(checkDomain(d), { ok: true, value: want }, d);
  });

  it('refuses what is not a host name or an IP address', () => {
    for (const d of ['', 'exa mple.com', 'example.com.', 'a..b', '.a', '-a.com', 'a-.com', 'ex@mple.com', 'a:b', '1.2.3.999', '10.0.0', '[example.com]', 'é.com', `${'a'.repeat(64)}.com`, `${'a.'.repeat(127)}a`]) {
      assert.equal(checkDomain(d).ok, false, d);
    }
  });
});

describe('checkPassword and checkSubscriber', () => {
  it('needs a non-empty password without control characters', () => {
    assert.equal(checkPassword('s3cret with spaces ünd ünicode').ok, true);
    assert.equal(checkPassword('').ok, false);
    assert.equal(checkPassword('a\nb').ok, false);
    assert.equal(checkPassword('x'.repeat(1025)).ok, false);
  });

  it('names the first bad field, username then domain then password', () => {
    assert.deepEqual(checkSubscriber({ username: 'a b', domain: 'bad domain', password: '' }), {
      ok: false,
      error: { field: 'username', problem: 'must not contain whitespace' },
    });
    const d = checkSubscriber({ username: 'ab', domain: 'bad domain', password: '' });
    assert.equal(!d.ok && d.error.field, 'domain');
    const p = checkSubscriber({ username: 'ab', domain: 'Example.com', password: '' });
    assert.equal(!p.ok && p.error.field, 'password');
    assert.deepEqual(checkSubscriber({ username: 'ab', domain: 'Example.com', password: 'pw' }), {
      ok: true,
      value: { username: 'ab', domain: 'example.com', password: 'pw' },
    });
  });
});
