/**
 * serializeSdp: SessionDescription → text, lines ended with CRLF (RFC 8866 §5). The kept lines go
 * out as they came, in their order; c= goes where RFC 8866 §5 puts it (after i=/u=/e=/p= at
 * session level, after i= at media level).
 */
import type { MediaDescription, SdpConnection, SdpLine, SessionDescription } from './session-description.js';

const CRLF = '\r\n';

function connectionLine(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}${CRLF}`;
}

/**
 * RFC 8866 §5: "Some lines in each description are required and some are optional, but when
 * present, they MUST appear in exactly the order given here": v o s i u e p c b t r z k a at
 * session level, m i c b k a in a media description.
 */
function writeLines(out: string[], lines: readonly SdpLine[], connection: SdpConnection | undefined, beforeConnection: string): void {
  let i = 0;
  while (i < lines.length && beforeConnection.includes(lines[i]!.type)) {
    out.push(`${lines[i]!.type}=${lines[i]!.value}${CRLF}`);
    i++;
  }
  if (connection !== undefined) out.push(connectionLine(connection));
  for (; i < lines.length; i++) out.push(`${lines[i]!.type}=${lines[i]!.value}${CRLF}`);
}

function mediaLine(m: MediaDescription): string {
  const port = m.portCount !== undefined ? `${m.port}/${m.portCount}` : `${m.port}`;
  const formats = m.formats.length > 0 ? ` ${m.formats.join(' ')}` : '';
  return `m=${m.media} ${port} ${m.proto}${formats}${CRLF}`;
}

export function serializeSdp(session: SessionDescription): string {
  const o = session.origin;
  const out: string[] = [
    `v=${session.version}${CRLF}`,
    `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}${CRLF}`,
    `s=${session.sessionName}${CRLF}`,
  ];
  writeLines(out, session.lines, session.connection, 'iuep');
  for (const m of session.media) {
    out.push(mediaLine(m));
    writeLines(out, m.lines, m.connection, 'i');
  }
  return out.join('');
}
