import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addAttribute, attributesOf, getAttribute, getAttributes, getKeyedAttribute, hasAttribute, removeAttributes, setAttribute, splitAttribute } from './attributes.js';
import { parseSdp } from './parse.js';
import { serializeSdp } from './serialize.js';
import type { MediaDescription } from './session-description.js';
import { BARESIP_OFFER } from './testdata/real-sdps.js';

function baresipAudio(): MediaDescription {
  const result = parseSdp(BARESIP_OFFER);
  assert.ok(result.ok);
  return result.value.media[0]!;
}

describe('attributes', () => {
  it('reads by name, not by prefix', () => {
    const audio = baresipAudio();
    assert.equal(getAttribute(audio, 'rtcp'), undefined, 'a=rtcp-rsize is not a=rtcp');
    assert.equal(hasAttribute(audio, 'rtcp-rsize'), true);
    assert.equal(getAttribute(audio, 'rtcp-rsize'), '');
    assert.equal(getAttribute(audio, 'ptime'), '20', 'not a=minptime');
    assert.deepEqual(getAttributes(audio, 'fmtp'), ['96 stereo=1;sprop-stereo=1', '101 0-15']);
    assert.equal(getKeyedAttribute(audio, 'rtpmap', '9'), 'G722/8000');
    assert.equal(getKeyedAttribute(audio, 'fmtp', '0'), undefined);
    assert.deepEqual(splitAttribute('ssrc:1 cname:a:b'), { name: 'ssrc', value: '1 cname:a:b' });
    assert.equal(attributesOf(audio).length, 13);
  });

  it('edits in place and keeps every other line in its order', () => {
    const audio = baresipAudio();
    setAttribute(audio, 'sendonly');
    removeAttributes(audio, 'sendrecv');
    setAttribute(audio, 'ptime', '30');
    addAttribute(audio, 'rtcp', '10391');
    assert.equal(removeAttributes(audio, 'rtpmap'), 5);
    assert.deepEqual(
      audio.lines.map((l) => `${l.type}=${l.value}`),
      ['a=fmtp:96 stereo=1;sprop-stereo=1', 'a=fmtp:101 0-15', 'a=label:1', 'a=rtcp-rsize', 'a=ssrc:3056721758 cname:sip:alice@127.0.0.1', 'a=minptime:20', 'a=ptime:30', 'a=sendonly', 'a=rtcp:10391'],
    );
  });

  it('setAttribute replaces the first and drops the others', () => {
    const audio = baresipAudio();
    addAttribute(audio, 'label', '2');
    setAttribute(audio, 'label', '3');
    assert.deepEqual(getAttributes(audio, 'label'), ['3']);
    const at = audio.lines.findIndex((l) => l.value === 'label:3');
    assert.equal(audio.lines[at - 1]!.value, 'sendrecv', 'in the place of the first');
  });

  it('an edited description serializes with the edit', () => {
    const result = parseSdp(BARESIP_OFFER);
    assert.ok(result.ok);
    setAttribute(result.value.media[0]!, 'inactive');
    removeAttributes(result.value.media[0]!, 'sendrecv');
    const text = serializeSdp(result.value);
    assert.equal(text.includes('a=inactive\r\n'), true);
    assert.equal(text.includes('a=sendrecv'), false);
  });
});
