import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { parseHostPort, parseTimeArg } from './hep-options.js';

describe('parley hep option values', () => {
  it('HOST:PORT, [IPv6]:PORT, a bare host (port 9060) or a bare port (127.0.0.1)', () => {
    assert.deepEqual(parseHostPort('0.0.0.0:9061'), { host: '0.0.0.0', port: 9061 });
    assert.deepEqual(parseHostPort('[::1]:9062'), { host: '::1', port: 9062 });
    assert.deepEqual(parseHostPort('[2001:db8::1]'), { host: '2001:db8::1', port: 9060 });
    assert.deepEqual(parseHostPort('::1'), { host: '::1', port: 9060 });
    assert.deepEqual(parseHostPort('192.0.2.7'), { host: '192.0.2.7', port: 9060 });
    assert.deepEqual(parseHostPort('9063'), { host: '127.0.0.1', port: 9063 });
    assert.deepEqual(parseHostPort('localhost:0'), { host: 'localhost', port: 0 });
    for (const bad of ['127.0.0.1:', '127.0.0.1:70000', ':9060', '[::1', '[::1]x', '[nope]:1', '1:2:3:4:5', 'host:12a', '1.5']) {
      assert.throws(() => parseHostPort(bad), InvalidArgumentError, bad);
    }
  });

  it('times: ISO 8601 (UTC without a zone, microseconds kept) or seconds since 1970', () => {
    assert.equal(parseTimeArg('1700000000'), 1_700_000_000_000_000);
    assert.equal(parseTimeArg('1700000000.25'), 1_700_000_000_250_000);
    assert.equal(parseTimeArg('2023-11-14T22:13:20Z'), 1_700_000_000_000_000);
    assert.equal(parseTimeArg('2023-11-14T22:13:20'), 1_700_000_000_000_000, 'no zone: UTC, whatever TZ says');
    assert.equal(parseTimeArg('2023-11-14T23:13:20+01:00'), 1_700_000_000_000_000);
    assert.equal(parseTimeArg('2023-11-14T22:13:20.123456Z'), 1_700_000_000_123_456);
    assert.equal(parseTimeArg('2023-11-14'), Date.UTC(2023, 10, 14) * 1000);
    for (const bad of ['', 'yesterday', '2023-13-45T00:00:00Z']) assert.throws(() => parseTimeArg(bad), InvalidArgumentError, bad);
  });
});
