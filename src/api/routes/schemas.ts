/** JSON schemas the route groups share (the OpenAPI document shows them on every operation). */

/** The body of every error answer: `{ "error": "…", "field"?: "…" }`. */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' }, field: { type: 'string', description: 'The request field at fault, when one is.' } },
} as const;

const ERROR_TEXT: Record<number, string> = {
  400: 'The request fails its schema (or a value is not acceptable): `field` names the field.',
  401: 'No valid token (the same answer for a missing, unknown, wrong, revoked or expired one).',
  403: "The token's scope is too narrow, or plain HTTP off loopback.",
  404: 'No such resource.',
  409: 'It exists already.',
  413: 'The body is larger than `api.bodyLimit`.',
  415: 'A body of a type the route does not take.',
  429: 'The source is blocked after too many failed authentications.',
  503: 'Parley is starting, or a part does not answer.',
};

/** Error responses for the OpenAPI document: 401, 403, 429 always, and `codes`. */
export function errorResponses(...codes: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const c of [...codes, 401, 403, 429].sort()) out[c] = { ...ERROR_SCHEMA, description: ERROR_TEXT[c] ?? 'Error.' };
  return out;
}

/**
 * A call's ladder diagram: participants (columns) and messages (arrows) in time order, as
 * GET /traces/:callId/ladder and GET /captures/:callId answer it.
 */
export const LADDER_SCHEMA = {
  type: 'object',
  required: ['callId', 'participants', 'arrows'],
  properties: {
    callId: { type: 'string' },
    participants: {
      type: 'array',
      items: { type: 'string' },
      description: '`udp:198.51.100.7:5060` for each socket address in order of appearance (a traced call also has `parley`).',
    },
    arrows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['t', 'from', 'to', 'label', 'message'],
        properties: {
          t: { type: 'number', description: 'ms since the first message' },
          from: { type: 'string' },
          to: { type: 'string' },
          label: { type: 'string', description: '`INVITE`, `180 Ringing`, …' },
          message: { type: 'string' },
        },
      },
    },
  },
} as const;

/** `offset` and `limit` of a list. */
export const PAGE_QUERY = {
  offset: { type: 'integer', minimum: 0, default: 0, description: 'Items to skip.' },
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Items to return (at most 1000).' },
} as const;

/** A page of `items`. */
export function pageOf(item: object): object {
  return {
    type: 'object',
    required: ['items', 'total', 'offset', 'limit'],
    properties: { items: { type: 'array', items: item }, total: { type: 'integer', description: 'How many match in all.' }, offset: { type: 'integer' }, limit: { type: 'integer' } },
  };
}

/** `user@domain` of a path → its parts (the last `@` splits), or undefined. */
export function splitAddress(address: string): { username: string; domain: string } | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  return { username: address.slice(0, at), domain: address.slice(at + 1) };
}
