import type { TransportError } from './transport-error.js';

/** An error callback that runs at most once (and does nothing when there is none). */
export function onceError(fn: ((error: TransportError) => void) | undefined): (error: TransportError) => void {
  let called = false;
  return (error) => {
    if (called || fn === undefined) return;
    called = true;
    fn(error);
  };
}
