import type { ServerTransaction, SipRequest } from '../../sip/index.js';
import type { SipServer } from '../sip-server.js';
import type { RequestHandler, StatelessAnswer } from './request-handler.js';
import { optionsHeaders } from './options-headers.js';

/**
 * The handler of a server with no registrar or proxy: OPTIONS gets 200 with what the server
 * supports (RFC 3261 §11.2), CANCEL is matched to its INVITE (§9.2), and every other method is
 * answered 501 Not Implemented, which tells a client this server does not do it (§21.5.2).
 */
export class BasicHandler implements RequestHandler {
  readonly allow = ['OPTIONS', 'CANCEL', 'ACK'] as const;
  readonly supported = [] as const;

  statelessAnswer(request: SipRequest): StatelessAnswer | undefined {
    return request.method === 'OPTIONS' ? { status: 200, headers: optionsHeaders(this) } : undefined;
  }

  onRequest(request: SipRequest, tx: ServerTransaction, server: SipServer): void {
    switch (request.method) {
      case 'OPTIONS':
        server.replyOptions(tx, this);
        return;
      case 'CANCEL':
        server.handleCancel(request, tx);
        return;
      default:
        server.reply(tx, 501);
    }
  }
}
