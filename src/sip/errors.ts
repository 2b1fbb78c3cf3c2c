import { ParleyError, type ErrorCode } from '../lib/errors.js';

/**
 * A malformed SIP message or header. `place` names where parsing failed, as a path:
 * `start-line`, `start-line/request-uri`, `start-line/version`, `start-line/status`,
 * `header/<Canonical-Name>` (e.g. `header/CSeq`), `headers` (the header section as a whole),
 * `body` (Content-Length and body disagree). A server maps it to 400 (505 for a version).
 */
export class SipParseError extends ParleyError {
  constructor(
    readonly place: string,
    readonly detail: string,
    code: ErrorCode = 'ERR_SIP_PARSE',
  ) {
    super(code, `${place}: ${detail}`);
  }
}

/** Thrown inside the grammar functions; caught at the boundary and turned into a SipParseError. */
export class GrammarError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}
