import { readParams, type Params } from './params.js';
import { Scanner } from './scanner.js';

/** Content-Type (RFC 3261 §20.15): `m-type SLASH m-subtype *(SEMI m-parameter)`; type/subtype lower-case. */
export interface MediaType {
  readonly type: string;
  readonly subtype: string;
  readonly params: Params;
}

export function parseMediaType(text: string): MediaType {
  const s = new Scanner(text);
  s.skipWs();
  const type = s.token('media type').toLowerCase();
  s.expect(0x2f, '/');
  const subtype = s.token('media subtype').toLowerCase();
  const params = readParams(s);
  s.skipWs();
  if (!s.done) s.fail('unexpected text in media type');
  return { type, subtype, params };
}
