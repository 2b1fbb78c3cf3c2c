import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { basicAuthorization, fetchTurnCredentials, turnIceServer } from './turn-credentials.js';

const answer = (status: number, body: unknown): typeof fetch => (async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })) as typeof fetch;

describe('the phone page asks Parley for TURN credentials', () => {
  it('sends the SIP login as HTTP Basic, UTF-8', async () => {
    assert.equal(basicAuthorization('alice', 'pä:ss'), `Basic ${Buffer.from('alice:pä:ss', 'utf8').toString('base64')}`);
    let seen: RequestInit | undefined;
    let url = '';
    const f = (async (u: string, init: RequestInit) => {
      url = u;
      seen = init;
      return new Response(JSON.stringify({ username: '1:alice', password: 'p', ttl: 60, uris: ['turn:h:3478?transport=udp'] }), { status: 200 });
    }) as unknown as typeof fetch;
    const r = await fetchTurnCredentials('alice', 'secret', f, () => 1000);
    assert.equal(url, '/phone/turn-credentials');
    assert.equal(seen?.method, 'POST');
    assert.equal((seen?.headers as Record<string, string>).authorization, basicAuthorization('alice', 'secret'));
    assert.deepEqual(r, { ok: true, credentials: { username: '1:alice', password: 'p', ttl: 60, uris: ['turn:h:3478?transport=udp'] }, expiresAt: 61_000 });
    assert.ok(r.ok);
    assert.deepEqual(turnIceServer(r.credentials), { urls: ['turn:h:3478?transport=udp'], username: '1:alice', credential: 'p' });
  });

  it('tells TURN being off (404) from a refusal (401, 429) and from a failure', async () => {
    assert.deepEqual(await fetchTurnCredentials('a', 'b', answer(404, { error: 'x' })), { ok: false, reason: 'off', detail: 'the server runs no TURN server' });
    assert.deepEqual(await fetchTurnCredentials('a', 'b', answer(401, { error: 'wrong username or password' })), { ok: false, reason: 'refused', detail: 'wrong username or password' });
    assert.equal((await fetchTurnCredentials('a', 'b', answer(429, {}))).ok, false);
    assert.deepEqual(await fetchTurnCredentials('a', 'b', answer(500, {})), { ok: false, reason: 'failed', detail: 'HTTP 500' });
    assert.deepEqual(await fetchTurnCredentials('a', 'b', answer(200, { username: 'x' })), { ok: false, reason: 'failed', detail: 'the answer is not TURN credentials' });
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    assert.deepEqual(await fetchTurnCredentials('a', 'b', down), { ok: false, reason: 'failed', detail: 'Failed to fetch' });
  });

  it('no URL, no ICE server', () => {
    assert.equal(turnIceServer({ username: 'u', password: 'p', ttl: 1, uris: [] }), undefined);
  });
});
