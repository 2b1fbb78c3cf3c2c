// Retransmissions reach Parley's transaction layer, not its handler (RFC 3261 §17.2): sipp, a
// real UAC over UDP, repeats a request with the same branch and checks what comes back. The
// proof that no new transaction was made is the To tag: Parley picks a random tag for every
// response it builds, so only a resent response carries the first one's tag.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { header, tagOf, type SippTraceEntry } from './support/sip-trace.js';
import { runSipp, skipWithoutSipp } from './support/sipp.js';

const pool = portPool(import.meta.url);

/** "> INVITE sip:..." for a request sipp sent, "< 483" for a response it received. */
function line(e: SippTraceEntry): string {
  return e.direction === 'sent' ? `> ${e.startLine}` : `< ${e.status ?? e.startLine}`;
}

describe('retransmissions from sipp over UDP', { skip: skipWithoutSipp() }, () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp'] });
  });

  after(() => stopCleanly(parley));

  /** One call of a scenario over UDP, with -nr: sipp retransmits nothing by itself, every copy in the trace is deliberate. */
  function runScenario(scenario: string): ReturnType<typeof runSipp> {
    return runSipp({ ...parley.sippTarget('udp'), scenario, calls: 1, timeoutSecs: 15, extraArgs: ['-nr'] });
  }

  it('INVITE: the retransmission gets the same final response (483); the ACK and a later retransmission get nothing', async () => {
    const r = await runScenario('invite-retransmission.xml');
    // exit 0: sipp got exactly the messages the scenario expects, and no unexpected one (an answer
    // to the ACK or to the third INVITE, during the 1-s pause, would have failed the call)
    assert.equal(r.code, 0, `sipp failed:\n${r.describe()}`);

    const flow = r.trace.filter((e) => !(e.direction === 'received' && e.status === 100)).map(line);
    const invite = `INVITE sip:retx@${parley.host}:${parley.port} SIP/2.0`;
    const ack = `ACK sip:retx@${parley.host}:${parley.port} SIP/2.0`;
    // Max-Forwards: 0 gets 483 whatever the routing (§16.3 item 3); see the scenario
    assert.deepEqual(flow, [`> ${invite}`, '< 483', `> ${invite}`, '< 483', `> ${ack}`, `> ${invite}`], r.describe());

    // the three INVITEs are copies of one another (same branch): retransmissions, not new requests
    const invites = r.trace.filter((e) => e.direction === 'sent' && e.method === 'INVITE');
    assert.equal(invites[1]!.text, invites[0]!.text);
    assert.equal(invites[2]!.text, invites[0]!.text);
    assert.match(header(invites[0]!, 'Via') ?? '', /;branch=z9hG4bK-retx-\d+-1$/);

    const finals = r.trace.filter((e) => e.direction === 'received' && e.status !== undefined && e.status >= 200);
    assert.equal(finals.length, 2);
    const [first, second] = finals as [SippTraceEntry, SippTraceEntry];
    const tag1 = tagOf(header(first, 'To'));
    const tag2 = tagOf(header(second, 'To'));
    assert.ok(tag1 !== undefined && tag1.length > 0, `no To tag in\n${first.text}`);
    assert.equal(tag2, tag1, 'the retransmission was answered by a new transaction (another To tag)');
    // §17.2.1: the transaction passes the same response to the transport again
    assert.equal(second.text, first.text);

    // the ACK carried the tag of the 501 it acknowledges (§17.1.1.3)
    const sentAck = r.trace.find((e) => e.direction === 'sent' && e.method === 'ACK')!;
    assert.equal(tagOf(header(sentAck, 'To')), tag1);
    // nothing at all came back after the ACK
    const ackAt = r.trace.indexOf(sentAck);
    assert.deepEqual(r.trace.slice(ackAt).filter((e) => e.direction === 'received').map(line), []);
  });

  it('OPTIONS: the retransmission gets the same 200 (same To tag)', async () => {
    const r = await runScenario('options-retransmission.xml');
    assert.equal(r.code, 0, `sipp failed:\n${r.describe()}`);
    assert.deepEqual(r.trace.map(line), [
      `> OPTIONS sip:${parley.host}:${parley.port} SIP/2.0`,
      '< 200',
      `> OPTIONS sip:${parley.host}:${parley.port} SIP/2.0`,
      '< 200',
    ], r.describe());
    const [req1, res1, req2, res2] = r.trace as [SippTraceEntry, SippTraceEntry, SippTraceEntry, SippTraceEntry];
    assert.equal(req2.text, req1.text);
    const tag = tagOf(header(res1, 'To'));
    assert.ok(tag !== undefined);
    assert.equal(tagOf(header(res2, 'To')), tag, 'the retransmission was answered by a new transaction (another To tag)');
    assert.equal(res2.text, res1.text);
  });

  it('logged no warning or error and is still running', () => {
    assert.deepEqual(parley.problems(), []);
    assert.equal(parley.alive, true);
  });
});
