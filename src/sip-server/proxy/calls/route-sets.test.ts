import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeSetsOf } from './route-sets.js';

const ours = (entry: string): boolean => entry.includes('parley.example');

describe('routeSetsOf: the route beyond Parley in each direction, from the 2xx\'s Record-Route (RFC 3261 §12.1.1, §12.1.2)', () => {
  it('Parley alone: nothing beyond it either way', () => {
    assert.deepEqual(routeSetsOf(['<sip:parley.example;lr>'], ours), { towardsCallee: [], towardsCaller: [] });
  });

  it('proxies on both sides: the callee\'s side reversed (the caller\'s set is the list reversed), the caller\'s side in order', () => {
    // the list as in the 2xx: nearest the callee first
    const rr = ['<sip:p4.example;lr>', '<sip:p3.example;lr>', '<sip:parley.example;lr>', '<sip:p2.example;lr>', '<sip:p1.example;lr>'];
    assert.deepEqual(routeSetsOf(rr, ours), {
      towardsCallee: ['<sip:p3.example;lr>', '<sip:p4.example;lr>'],
      towardsCaller: ['<sip:p2.example;lr>', '<sip:p1.example;lr>'],
    });
  });

  it('a double Record-Route of Parley\'s (RFC 5658): both entries skipped, parameters kept', () => {
    const rr = ['<sip:callee-proxy.example;lr;ftag=x>', '<sip:parley.example;transport=tcp;lr>', '<sip:parley.example;lr>', '<sip:caller-proxy.example;lr>'];
    assert.deepEqual(routeSetsOf(rr, ours), { towardsCallee: ['<sip:callee-proxy.example;lr;ftag=x>'], towardsCaller: ['<sip:caller-proxy.example;lr>'] });
  });

  it('undefined when no entry is Parley\'s (the dialog does not pass Parley)', () => {
    assert.equal(routeSetsOf(['<sip:p1.example;lr>'], ours), undefined);
    assert.equal(routeSetsOf([], ours), undefined);
  });
});
