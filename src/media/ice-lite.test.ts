/**
 * The ICE-lite agent (ice-lite.ts): answers checks as RFC 8445 §7.3 and RFC 8489 §9.1.3 say,
 * follows the browser's nomination, loses consent after 30 s without a check (RFC 7675), and
 * takes new credentials on restart. Checks are built with src/stun's builder as a browser writes
 * them (USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StunAttr } from '../stun/attribute-types.js';
import { readXorAddress, type TransportAddress } from '../stun/address.js';
import { StunMessageBuilder } from '../stun/builder.js';
import { readErrorCode } from '../stun/error-code.js';
import { verifyFingerprint } from '../stun/fingerprint.js';
import { verifyMessageIntegrity } from '../stun/integrity.js';
import { newTransactionId, parseStunMessage, StunMethod, type StunMessage } from '../stun/message.js';
import { IceLiteAgent } from './ice-lite.js';

const LOCAL = { ufrag: 'prly', pwd: 'parleyparleyparleypassword' };
const key = (s: string): Uint8Array => new TextEncoder().encode(s);
const BROWSER: TransportAddress = { family: 4, address: '127.0.0.1', port: 40000 };
const OTHER: TransportAddress = { family: 4, address: '127.0.0.2', port: 40002 };

interface CheckOptions {
  username?: string | null;
  pwd?: string | null;
  useCandidate?: boolean;
  controlled?: boolean;
  unknown?: boolean;
  fingerprint?: boolean;
}

function check(o: CheckOptions = {}): Uint8Array {
  const b = new StunMessageBuilder(StunMethod.Binding, 'request', newTransactionId());
  if (o.username !== null) b.addString(StunAttr.USERNAME, o.username ?? 'prly:brws');
  b.addUint32(StunAttr.PRIORITY, 1853824767);
  if (o.controlled === true) b.add(StunAttr.ICE_CONTROLLED, new Uint8Array(8));
  else b.add(StunAttr.ICE_CONTROLLING, new Uint8Array(8).fill(1));
  if (o.useCandidate === true) b.add(StunAttr.USE_CANDIDATE, new Uint8Array(0));
  if (o.unknown === true) b.add(0x7f01, new Uint8Array(4));
  if (o.pwd !== null) b.addMessageIntegrity(key(o.pwd ?? LOCAL.pwd));
  if (o.fingerprint !== false) b.addFingerprint();
  return b.build().slice();
}

function response(bytes: Uint8Array | undefined): StunMessage {
  assert.ok(bytes !== undefined, 'a response');
  const r = parseStunMessage(bytes);
  assert.ok(r.ok);
  assert.ok(verifyFingerprint(r.value), 'FINGERPRINT');
  return r.value;
}

function errorCode(m: StunMessage): number {
  assert.equal(m.class, 'error');
  const e = readErrorCode(m.get(StunAttr.ERROR_CODE)!);
  assert.ok(e.ok);
  return e.value.code;
}

describe('IceLiteAgent', () => {
  it('answers a valid check with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY (local pwd) and FINGERPRINT', () => {
    const agent = new IceLiteAgent({ local: LOCAL, remoteUfrag: 'brws' });
    const out = agent.handle(check(), BROWSER);
    assert.ok(out.valid);
    assert.equal(out.nominated, false);
    const m = response(out.response);
    assert.equal(m.class, 'success');
    assert.ok(verifyMessageIntegrity(m, key(LOCAL.pwd)));
    const mapped = readXorAddress(m.get(StunAttr.XOR_MAPPED_ADDRESS)!, m.transactionId);
    assert.ok(mapped.ok);
    assert.deepEqual({ ...mapped.value }, { ...BROWSER });
    assert.equal(agent.selected, undefined, 'not nominated yet');
    assert.equal(agent.ready, false);
  });

  it('400 without USERNAME or MESSAGE-INTEGRITY; 401 for a wrong ufrag or password; 420 for unknown attributes; 487 to a controlled peer', () => {
    const agent = new IceLiteAgent({ local: LOCAL, remoteUfrag: 'brws' });
    assert.equal(errorCode(response(agent.handle(check({ username: null }), BROWSER).response)), 400);
    const noMi = response(agent.handle(check({ pwd: null }), BROWSER).response);
    assert.equal(errorCode(noMi), 400);
    assert.equal(noMi.get(StunAttr.MESSAGE_INTEGRITY), undefined);
    assert.equal(errorCode(response(agent.handle(check({ username: 'other:brws' }), BROWSER).response)), 401);
    assert.equal(errorCode(response(agent.handle(check({ username: 'prly:someone' }), BROWSER).response)), 401);
    assert.equal(errorCode(response(agent.handle(check({ username: 'prly' }), BROWSER).response)), 401);
    const badPwd = response(agent.handle(check({ pwd: 'wrong-password-of-22-chars' }), BROWSER).response);
    assert.equal(errorCode(badPwd), 401);
    assert.equal(badPwd.get(StunAttr.MESSAGE_INTEGRITY), undefined);
    assert.equal(errorCode(response(agent.handle(check({ unknown: true }), BROWSER).response)), 420);
    assert.equal(errorCode(response(agent.handle(check({ controlled: true, useCandidate: true }), BROWSER).response)), 487);
    assert.equal(agent.selected, undefined, 'no error nominates');
  });

  it('drops what is not a Binding request, a bad FINGERPRINT and garbage', () => {
    const agent = new IceLiteAgent({ local: LOCAL });
    const ind = new StunMessageBuilder(StunMethod.Binding, 'indication', newTransactionId()).addFingerprint().build();
    assert.equal(agent.handle(ind, BROWSER).response, undefined);
    const bad = check();
    bad[bad.length - 1]! ^= 1;
    assert.equal(agent.handle(bad, BROWSER).response, undefined);
    assert.equal(agent.handle(new Uint8Array([0, 1, 0, 0]), BROWSER).response, undefined);
    assert.ok(agent.handle(check({ username: 'prly:anyone' }), BROWSER).valid, 'any remote ufrag when none is known');
  });

  it('selects the nominated pair and moves with a later nomination', () => {
    const agent = new IceLiteAgent({ local: LOCAL, remoteUfrag: 'brws' });
    assert.ok(agent.handle(check({ useCandidate: true }), BROWSER).nominated);
    assert.deepEqual(agent.selected, BROWSER);
    assert.ok(agent.ready);
    assert.equal(agent.handle(check({ useCandidate: true }), BROWSER).nominated, false, 'same pair again');
    assert.ok(agent.handle(check({ useCandidate: true }), OTHER).nominated);
    assert.deepEqual(agent.selected, OTHER);
  });

  it('loses consent 30 s after the last valid check on the selected pair; a check renews it', () => {
    let now = 1000;
    const agent = new IceLiteAgent({ local: LOCAL, remoteUfrag: 'brws', now: () => now });
    agent.handle(check({ useCandidate: true }), BROWSER);
    now += 29_000;
    assert.ok(agent.ready);
    agent.handle(check(), OTHER); // a check elsewhere is not consent for the selected pair
    now += 1_000;
    assert.equal(agent.ready, false);
    agent.handle(check(), BROWSER);
    assert.ok(agent.ready);
    agent.handle(check({ pwd: 'wrong-password-of-22-chars' }), BROWSER);
    now += 30_000;
    assert.equal(agent.ready, false, 'a failed check is no consent');
  });

  it('restart: new credentials are required, the selected pair stays until a new nomination', () => {
    const agent = new IceLiteAgent({ local: LOCAL, remoteUfrag: 'brws' });
    agent.handle(check({ useCandidate: true }), BROWSER);
    agent.restart('brw2', { ufrag: 'prl2', pwd: 'another-parley-password!!' });
    assert.equal(errorCode(response(agent.handle(check(), BROWSER).response)), 401);
    assert.deepEqual(agent.selected, BROWSER);
    const out = agent.handle(check({ username: 'prl2:brw2', pwd: 'another-parley-password!!', useCandidate: true }), OTHER);
    assert.ok(out.valid && out.nominated);
    assert.deepEqual(agent.selected, OTHER);
  });
});
