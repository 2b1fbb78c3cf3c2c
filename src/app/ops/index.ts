import { OpsError, type Operations } from '../../api/operations.js';
import type { ServerParts } from './server-parts.js';

/**
 * The operations of a running server (src/api/operations.ts), each part from its own file here.
 * A part not built yet answers 503 (issue 18 is built in parts; none stays like this).
 */
export function createOperations(parts: ServerParts): Operations {
  void parts;
  return {
    server: notYet('server'),
    metrics: notYet('metrics'),
    registrar: notYet('registrar'),
    subscribers: notYet('subscribers'),
    calls: notYet('calls'),
    events: parts.events,
    traces: notYet('traces'),
    script: notYet('script'),
    turn: notYet('turn'),
    media: notYet('media'),
    tokens: notYet('tokens'),
  };
}

function notYet<T extends object>(part: string): T {
  return new Proxy({} as T, {
    get: (_t, name) => () => {
      throw new OpsError(503, `${part}.${String(name)} is not available in this build`);
    },
  });
}
