/** A SIP message as a client (baresip, sipsak, linphone) printed it in its trace or log: start line and header fields. */
export interface TracedMessage {
  readonly startLine: string;
  /** Header fields in order, names lower-cased, values trimmed. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/**
 * The SIP messages printed in a client's output (baresip's `-s` trace, sipsak's `-vvv`,
 * linphone's log), in order. A message starts at a line `METHOD uri SIP/2.0` or
 * `SIP/2.0 CODE reason` and ends at a blank line or a line that is not a header field.
 */
export function parseSipTrace(text: string): TracedMessage[] {
  const out: TracedMessage[] = [];
  let current: { startLine: string; headers: Array<[string, string]> } | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (/^SIP\/2\.0 \d{3} /.test(line) || /^[A-Z]+ \S+ SIP\/2\.0$/.test(line)) {
      current = { startLine: line, headers: [] };
      out.push(current);
    } else if (current !== undefined) {
      const colon = line.indexOf(':');
      if (line === '' || colon <= 0) current = undefined;
      else current.headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
    }
  }
  return out;
}
