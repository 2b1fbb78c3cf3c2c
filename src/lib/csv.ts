/**
 * A small CSV reader for `parley user import` and the API's subscriber import (RFC 4180, with the leniencies spreadsheets need).
 *
 * - Fields are separated by `,` or `;`: the first one found outside quotes on the first non-blank
 *   line decides for the whole text (`,` when there is none), unless `separator` is given.
 * - A field may be quoted with `"`; inside, `""` is one quote, and separators and line breaks are
 *   data. A quote inside an unquoted field is kept as data.
 * - Spaces and tabs around an unquoted field are dropped; quote a value to keep them.
 * - Lines end with CRLF, LF or CR. Blank lines are skipped. A leading byte-order mark is ignored.
 * - A record's `line` is the 1-based line it starts on (a quoted line break makes it span more).
 * - A syntax error (text after a closing quote, a quote never closed) is reported with its line and
 *   the rest of that line skipped, so one pass finds every bad line.
 */

/** One record: its fields and the line it starts on. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

/** A line that is not well-formed CSV. */
export interface CsvSyntaxError {
  readonly line: number;
  readonly message: string;
}

export type CsvSeparator = ',' | ';';

export interface CsvParseResult {
  readonly separator: CsvSeparator;
  readonly records: CsvRecord[];
  readonly errors: CsvSyntaxError[];
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Parse CSV text into records (see the file comment for the dialect). */
export function parseCsv(input: string, options: { readonly separator?: CsvSeparator } = {}): CsvParseResult {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const separator = options.separator ?? detectSeparator(text);
  const sep = separator.charCodeAt(0);
  const records: CsvRecord[] = [];
  const errors: CsvSyntaxError[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;

  /** Past the line break at i (CRLF, LF or CR), counting the line. */
  const skipBreak = (): void => {
    if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) i += 2;
    else i += 1;
    line++;
  };
  const atBreak = (): boolean => {
    const c = text.charCodeAt(i);
    return c === LF || c === CR;
  };
  /** Skip to the start of the next line after a syntax error. */
  const skipRestOfLine = (): void => {
    while (i < n && !atBreak()) i++;
    if (i < n) skipBreak();
  };

  while (i < n) {
    const startLine = line;
    // blank line: skip
    let j = i;
    while (j < n && isBlank(text.charCodeAt(j))) j++;
    if (j >= n) break;
    if (text.charCodeAt(j) === LF || text.charCodeAt(j) === CR) {
      i = j;
      skipBreak();
      continue;
    }

    const fields: string[] = [];
    let failed: string | undefined;
    for (;;) {
      while (i < n && isBlank(text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) === QUOTE) {
        // quoted field
        const openedOn = line;
        i++;
        let value = '';
        let closed = false;
        while (i < n) {
          const q = text.indexOf('"', i);
          const end = q < 0 ? n : q;
          for (let k = i; k < end; k++) {
            const c = text.charCodeAt(k);
            if (c === LF || (c === CR && text.charCodeAt(k + 1) !== LF)) line++;
          }
          value += text.slice(i, end);
          if (q < 0) {
            i = n;
            break;
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += '"';
            i = q + 2;
            continue;
          }
          i = q + 1;
          closed = true;
          break;
        }
        if (!closed) {
          failed = `a quoted field opened on line ${openedOn} is never closed`;
          break;
        }
        while (i < n && isBlank(text.charCodeAt(i))) i++;
        fields.push(value);
        if (i < n && text.charCodeAt(i) !== sep && !atBreak()) {
          failed = `unexpected ${JSON.stringify(text[i])} after a closing quote (expected ${JSON.stringify(separator)} or the end of the line)`;
          break;
        }
      } else {
        let k = i;
        while (k < n && text.charCodeAt(k) !== sep && text.charCodeAt(k) !== LF && text.charCodeAt(k) !== CR) k++;
        let e = k;
        while (e > i && isBlank(text.charCodeAt(e - 1))) e--;
        fields.push(text.slice(i, e));
        i = k;
      }
      if (i < n && text.charCodeAt(i) === sep) {
        i++;
        continue;
      }
      if (i < n) skipBreak();
      break;
    }
    if (failed !== undefined) {
      errors.push({ line: startLine, message: failed });
      skipRestOfLine();
      continue;
    }
    records.push({ line: startLine, fields });
  }
  return { separator, records, errors };
}

/** The first `,` or `;` outside quotes on the first non-blank line; `,` when there is none. */
function detectSeparator(text: string): CsvSeparator {
  let inQuotes = false;
  let seenContent = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (c === ',' || c === ';')) return c;
    else if (!inQuotes && (c === '\n' || c === '\r')) {
      if (seenContent) break;
    } else if (c !== ' ' && c !== '\t') seenContent = true;
  }
  return ',';
}
