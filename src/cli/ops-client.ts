import type { Operations } from '../api/operations.js';
import { controlSocketPath, sendControl } from '../app/control-socket.js';

type Method<P extends keyof Operations> = {
  [M in keyof Operations[P]]: Operations[P][M] extends (...a: never[]) => unknown ? M : never;
}[keyof Operations[P]];
type Fn<P extends keyof Operations, M extends Method<P>> = Operations[P][M] extends (...a: infer A) => infer R ? { args: A; result: Awaited<R> } : never;

/** An operation the server refused: its status (as HTTP would answer), message and field. */
export class OpFailed extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'OpFailed';
  }
}

/**
 * The operator's commands' way to the running server: an operation (src/api/operations.ts) over
 * the control socket of the data directory, its result as the API would give it. Rejects with
 * OpFailed for a refusal, with an Error naming the socket when no server answers.
 */
export interface OpsClient {
  readonly socket: string;
  call<P extends keyof Operations, M extends Method<P>>(part: P, method: M, ...args: Fn<P, M>['args']): Promise<Fn<P, M>['result']>;
}

export function opsClient(dataDir: string, timeoutMs?: number): OpsClient {
  return {
    socket: controlSocketPath(dataDir),
    async call(part, method, ...args) {
      const answer = await sendControl(dataDir, { cmd: 'op', part, method: String(method), args }, timeoutMs);
      if (answer.ok === true) return answer.result as never;
      if (typeof answer.status === 'number' && typeof answer.error === 'string') {
        throw new OpFailed(answer.status, answer.error, typeof answer.field === 'string' ? answer.field : undefined);
      }
      // a server from before the operations: the old commands' error shape
      const message = (answer.error as { message?: unknown } | undefined)?.message;
      throw new OpFailed(500, typeof message === 'string' ? message : 'the server refused the request');
    },
  };
}
