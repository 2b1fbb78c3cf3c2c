// The first pass of `parley pcap wav` and `split` over a capture: its SIP calls (src/capture's
// readers) and where their media goes, so the second pass can give each packet to its call.
import type { Result } from '../../lib/result.js';
import type { CaptureError } from '../../pcap/index.js';
import { callMedia, MediaIndex } from '../../capture/media-hints.js';
import { type SipCall, SipCalls } from '../../capture/sip-calls.js';
import { type CapturedSipMessage, readSipMessages } from '../../capture/sip-capture.js';
import type { CaptureInput } from './capture-input.js';

/** The SIP side of a capture, from a first pass: its calls and where their media goes. */
export interface CaptureCalls {
  /** INVITE dialogs (calls), in the order they started. */
  readonly calls: readonly SipCall[];
  /** The media endpoints their SDP announced. */
  readonly index: MediaIndex;
  /** The Call-IDs of the calls whose SIP each record carried (or completed), by the record's file offset. */
  readonly sipRecords: ReadonlyMap<number, ReadonlySet<string>>;
}

/** First pass: the capture's SIP calls (src/capture's readers), or the file's error. */
export async function readCaptureCalls(input: CaptureInput): Promise<Result<CaptureCalls, CaptureError>> {
  // only the messages with a body are kept (callMedia reads their SDP): memory grows with the SDP, not the SIP
  const sip = new SipCalls({ keepMessages: false });
  const bodied = new Map<string, CapturedSipMessage[]>();
  const records = new Map<number, Set<string>>();
  const r = await readSipMessages(
    input.chunks({ label: 'SIP pass' }),
    (m) => {
      sip.add(m);
      if (m.message.bodyLength > 0) {
        const list = bodied.get(m.message.callId);
        if (list === undefined) bodied.set(m.message.callId, [m]);
        else list.push(m);
      }
      let ids = records.get(m.offset);
      if (ids === undefined) records.set(m.offset, (ids = new Set()));
      ids.add(m.message.callId);
    },
  );
  if (r.error !== undefined) return { ok: false, error: r.error };
  const calls = sip.list().filter((c) => c.method === 'INVITE');
  const callIds = new Set(calls.map((c) => c.callId));
  for (const [offset, ids] of records) {
    for (const id of ids) if (!callIds.has(id)) ids.delete(id);
    if (ids.size === 0) records.delete(offset);
  }
  const media = calls.map((c) => callMedia({ ...c, messages: bodied.get(c.callId) ?? [] }));
  return { ok: true, value: { calls, index: new MediaIndex(media), sipRecords: records } };
}
