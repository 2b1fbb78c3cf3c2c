/**
 * Stable error codes. Every code is documented in docs/errors.md; a code never changes meaning.
 */
export type ErrorCode =
  | 'ERR_SIP_PARSE' // malformed SIP message or header value; the place says where
  | 'ERR_SIP_LIMIT' // a message exceeded a configured limit (size, header count, line length)
  | 'ERR_SIP_FRAMING' // a stream could not be split into messages (no Content-Length, oversized)
  | 'ERR_SIP_TRANSPORT' // a send or connect failed; the transaction user treats it as 503 (RFC 3261 §8.1.3.1)
  | 'ERR_STORE' // a store operation failed (StoreError.storeCode says which)
  | 'ERR_SCRIPT_COMPILE' // a routing script did not compile (syntax, an import that does not resolve)
  | 'ERR_SCRIPT_LOAD' // a routing script compiled but could not be loaded, or does not export the handlers
  | 'ERR_ROUTE_KEY' // the Record-Route signing key file of the data directory cannot be read or written, or holds no key
  | 'ERR_TURN_SECRET' // the TURN REST secret file of the data directory cannot be read or written, or holds no secret
  | 'ERR_INVALID_ARGUMENT'; // a programmer passed a bad argument to a library function

/** Base class of Parley's errors: a stable code and a message for people. */
export class ParleyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
