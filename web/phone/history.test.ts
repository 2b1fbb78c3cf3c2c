import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addToHistory, describeEntry, HISTORY_LENGTH, historyKey, outcomeOf, readHistory, type HistoryEntry, type KeyValueStore } from './history.js';
import { formatDuration } from './messages.js';

function store(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

const entry = (n: number, over: Partial<HistoryEntry> = {}): HistoryEntry => ({
  who: `user${n}`, uri: `sip:user${n}@example.com`, direction: 'outgoing', at: 1_700_000_000_000 + n, duration: n, outcome: 'answered', ...over,
});

describe('call history', () => {
  it('keeps the newest call first and the last 20 only, per account', () => {
    const s = store();
    for (let i = 1; i <= 25; i++) addToHistory(s, 'sip:alice@example.com', entry(i));
    const list = readHistory(s, 'sip:alice@example.com');
    assert.equal(list.length, HISTORY_LENGTH);
    assert.equal(list[0]!.who, 'user25');
    assert.equal(list.at(-1)!.who, 'user6');
    assert.deepEqual(readHistory(s, 'sip:bob@example.com'), []);
  });

  it('reads nothing from a broken or foreign value, and skips entries that are not calls', () => {
    const s = store();
    s.data.set(historyKey('sip:a@x'), '{not json');
    assert.deepEqual(readHistory(s, 'sip:a@x'), []);
    s.data.set(historyKey('sip:a@x'), JSON.stringify([entry(1), { who: 'x' }, entry(2, { outcome: 'weird' as never }), 7]));
    assert.deepEqual(readHistory(s, 'sip:a@x').map((e) => e.who), ['user1']);
  });

  it('a storage that refuses writes keeps the list of the session', () => {
    const s: KeyValueStore = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); } };
    assert.equal(addToHistory(s, 'sip:a@x', entry(1)).length, 1);
  });

  it('names the outcome from the way the call ended', () => {
    assert.equal(outcomeOf({ answered: true, direction: 'incoming', cause: 'Terminated' }), 'answered');
    assert.equal(outcomeOf({ answered: false, direction: 'outgoing', cause: 'Busy', status: 486 }), 'busy');
    assert.equal(outcomeOf({ answered: false, direction: 'incoming', cause: 'Canceled', originator: 'remote' }), 'missed');
    assert.equal(outcomeOf({ answered: false, direction: 'outgoing', cause: 'Canceled', originator: 'local' }), 'cancelled');
    assert.equal(outcomeOf({ answered: false, direction: 'incoming', cause: 'Rejected', originator: 'local' }), 'rejected');
    assert.equal(outcomeOf({ answered: false, direction: 'outgoing', cause: 'Unavailable', status: 480 }), 'failed');
  });

  it('describes an entry in words', () => {
    assert.equal(describeEntry(entry(187), formatDuration), 'Outgoing · 3:07');
    assert.equal(describeEntry(entry(0, { direction: 'incoming', outcome: 'missed' }), formatDuration), 'Missed');
    assert.equal(describeEntry(entry(0, { outcome: 'busy' }), formatDuration), 'Outgoing · busy');
  });
});
