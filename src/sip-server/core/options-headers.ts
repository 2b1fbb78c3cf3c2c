import type { RequestHandler } from './request-handler.js';

/** What a 200 to OPTIONS says about the server (RFC 3261 §11.2): Allow, Accept, Supported. */
export function optionsHeaders(handler: Pick<RequestHandler, 'allow' | 'supported'>): Array<[string, string]> {
  const headers: Array<[string, string]> = [
    ['Allow', handler.allow.join(', ')],
    ['Accept', 'application/sdp'],
  ];
  if (handler.supported.length > 0) headers.push(['Supported', handler.supported.join(', ')]);
  return headers;
}
