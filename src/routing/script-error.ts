import { ParleyError } from '../lib/errors.js';

/** Where in a script source a problem is (1-based line and column). */
export interface ScriptLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * A routing script that cannot replace the running one: it does not compile (ERR_SCRIPT_COMPILE),
 * or it compiled but did not load or does not export the handlers (ERR_SCRIPT_LOAD). The
 * message starts with `file:line:column:` when the place is known.
 */
export class ScriptError extends ParleyError {
  constructor(
    code: 'ERR_SCRIPT_COMPILE' | 'ERR_SCRIPT_LOAD',
    /** What went wrong, without the place. */
    readonly detail: string,
    readonly location?: ScriptLocation,
    options?: ErrorOptions,
  ) {
    super(code, location === undefined ? detail : `${location.file}:${location.line}:${location.column}: ${detail}`, options);
  }
}
