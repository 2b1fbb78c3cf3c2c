/**
 * A deterministic measure of the work a parser does on one input, by counting rather than timing
 * (issue 14): while `measureWork` runs its function, the string, byte-array and regular-expression
 * primitives the parsers are written with are wrapped so that each call adds the characters it
 * touches: charCodeAt 1; indexOf/lastIndexOf/includes the distance scanned (strings and byte
 * arrays); slice, substring, case mapping, trim, split, string replace and concatenation the
 * length they read; bytes copied into or out of a byte array (set, slice); TextDecoder
 * and Buffer decoding the bytes; a regular expression execution the length of its subject from
 * lastIndex (the pattern's own backtracking is held linear by src/regex-audit.test.ts). The same
 * input always gives the same count; a parser that rescans its input (quadratic) shows it at once.
 *
 * Test-only: it patches built-in prototypes for the duration of the call (synchronous code only).
 */

let work = 0;
let depth = 0;

type Fn = (...args: never[]) => unknown;

function wrap<T extends object>(proto: T, name: string, cost: (self: unknown, args: unknown[], result: unknown) => number): () => void {
  const original = (proto as Record<string, Fn>)[name]!;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const result = Reflect.apply(original, this, args);
    if (depth === 0) {
      depth++;
      try {
        work += 1 + cost(this, args, result);
      } finally {
        depth--;
      }
    }
    return result;
  };
  Object.defineProperty(proto, name, { value: wrapped, writable: true, configurable: true, enumerable: false });
  return () => Object.defineProperty(proto, name, { value: original, writable: true, configurable: true, enumerable: false });
}

/**
 * RegExp.prototype.exec (test, match, replace and split call it once it is patched): the subject
 * from where the search starts to the end of the match, or to the end of the text when there is
 * none; a sticky search (split) tries one position only.
 */
function wrapExec(): () => void {
  const proto = RegExp.prototype;
  const original = proto.exec;
  const wrapped = function (this: RegExp, subject: string): RegExpExecArray | null {
    const global = this.global || this.sticky;
    const start = global ? this.lastIndex : 0;
    const result = original.call(this, subject);
    if (depth === 0) {
      const text = String(subject);
      if (result !== null) work += 1 + result.index + result[0].length - start;
      else work += 1 + (this.sticky ? 1 : Math.max(0, text.length - start));
    }
    return result;
  };
  Object.defineProperty(proto, 'exec', { value: wrapped, writable: true, configurable: true, enumerable: false });
  return () => Object.defineProperty(proto, 'exec', { value: original, writable: true, configurable: true, enumerable: false });
}

const len = (x: unknown): number => (typeof x === 'string' || x instanceof Uint8Array ? x.length : Array.isArray(x) ? x.length : 0);
const num = (x: unknown, d: number): number => (typeof x === 'number' && Number.isFinite(x) ? Math.trunc(x) : d);

function scanForward(self: unknown, args: unknown[], result: unknown): number {
  const n = len(self);
  const from = Math.max(0, Math.min(n, num(args[1], 0)));
  const r = num(result, -1);
  return (r < 0 ? n - from : r - from) + len(args[0]);
}

function scanBackward(self: unknown, args: unknown[], result: unknown): number {
  const n = len(self);
  const from = Math.max(0, Math.min(n, num(args[1], n)));
  const r = num(result, -1);
  return (r < 0 ? from : from - r) + len(args[0]);
}

const readsSelf = (self: unknown): number => len(self);
const readsResult = (_s: unknown, _a: unknown[], result: unknown): number => len(result);

function install(): () => void {
  const S = String.prototype;
  const undo = [
    wrap(S, 'charCodeAt', () => 0),
    wrap(S, 'codePointAt', () => 0),
    wrap(S, 'at', () => 0),
    wrap(S, 'indexOf', scanForward),
    wrap(S, 'includes', (self, args) => len(self) - Math.max(0, num(args[1], 0))),
    wrap(S, 'lastIndexOf', scanBackward),
    wrap(S, 'startsWith', (_s, args) => len(args[0])),
    wrap(S, 'endsWith', (_s, args) => len(args[0])),
    wrap(S, 'slice', readsResult),
    wrap(S, 'substring', readsResult),
    wrap(S, 'substr', readsResult),
    wrap(S, 'toLowerCase', readsSelf),
    wrap(S, 'toUpperCase', readsSelf),
    wrap(S, 'trim', readsSelf),
    wrap(S, 'trimStart', readsSelf),
    wrap(S, 'trimEnd', readsSelf),
    wrap(S, 'split', readsSelf),
    wrap(S, 'replace', readsSelf),
    wrap(S, 'replaceAll', readsSelf),
    wrap(S, 'concat', (self, args) => len(self) + args.reduce<number>((a, x) => a + len(x), 0)),
    wrap(S, 'repeat', readsResult),
    wrapExec(),
    wrap(Uint8Array.prototype, 'indexOf', scanForward),
    wrap(Uint8Array.prototype, 'subarray', () => 0),
    wrap(Uint8Array.prototype, 'set', (_s, args) => len(args[0])),
    wrap(Uint8Array.prototype, 'slice', readsResult),
    wrap(TextDecoder.prototype, 'decode', (_s, args) => len(args[0])),
    wrap(Buffer.prototype, 'toString', readsResult),
    ...(typeof (Buffer.prototype as unknown as Record<string, unknown>).utf8Slice === 'function' ? [wrap(Buffer.prototype, 'utf8Slice', readsResult)] : []),
  ];
  return () => {
    for (const u of undo.reverse()) u();
  };
}

/** Run `fn` and count its work (see the module comment). Not reentrant. */
export function measureWork<T>(fn: () => T): { readonly result: T; readonly work: number } {
  work = 0;
  const uninstall = install();
  let result: T;
  try {
    result = fn();
  } finally {
    uninstall();
  }
  return { result, work };
}
