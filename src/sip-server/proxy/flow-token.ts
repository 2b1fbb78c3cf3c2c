import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HmacSha256 } from '../auth/hmac-sha256.js';

const PREFIX = 'fl';
const MAC_HEX = 16;
const TOKEN = /^fl([1-9][0-9]{0,14})-([0-9a-f]{16})$/;

/**
 * Flow tokens (RFC 5626 §5.2): the user part Parley puts in its Record-Route URI on the side of
 * a client it can reach only over that client's own connection (a WebSocket), so that an
 * in-dialog request coming back along the route goes out over that connection.
 *
 * RFC 5626 §5.2 asks for a token unique to the flow that a third party cannot forge or alter:
 * here the connection id with an HMAC-SHA-256 of it (64 bits kept), under a secret chosen at
 * start. A forged or edited token
 * does not decode; a token from before a restart does not either (the secret changed), which
 * also keeps a connection id reused by the new process from receiving old dialogs.
 */
export class FlowTokens {
  private readonly hmac: HmacSha256;

  constructor(secret: Uint8Array = randomBytes(32)) {
    this.hmac = new HmacSha256(secret);
  }

  /** The token naming this connection: `fl<id>-<mac>` (characters valid in a SIP URI user part). */
  encode(connectionId: number): string {
    return `${PREFIX}${connectionId}-${this.mac(connectionId)}`;
  }

  /** The connection id a token names, or undefined for anything that is not a token of ours. */
  decode(token: string | undefined): number | undefined {
    if (token === undefined) return undefined;
    const m = TOKEN.exec(token);
    if (m === null) return undefined;
    const id = Number(m[1]);
    const expected = Buffer.from(this.mac(id), 'latin1');
    const given = Buffer.from(m[2]!, 'latin1');
    return timingSafeEqual(expected, given) ? id : undefined;
  }

  private mac(connectionId: number): string {
    return this.hmac.mac(Buffer.from(String(connectionId), 'latin1')).toString('hex').slice(0, MAC_HEX);
  }
}
