import { ParleyError } from '../../lib/errors.js';

/**
 * A send or connect failure. The transaction layer treats it as a transport error: for a request,
 * "the client transaction SHOULD inform the TU that a transport failure has occurred, and the
 * client transaction SHOULD transition directly to the "Terminated" state. The TU will handle the
 * failover mechanisms described in [4]." (RFC 3261 §17.1.4); a TU turns it into 503 (§8.1.3.1).
 */
export class TransportError extends ParleyError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_SIP_TRANSPORT', message, options);
  }
}
