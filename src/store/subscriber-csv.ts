import { parseCsv, type CsvRecord } from '../lib/csv.js';
import { checkSubscriber } from './check-subscriber.js';
import type { NewSubscriber } from './subscriber-store.js';

/**
 * Subscribers from CSV (`parley user import`, `POST /api/v1/subscribers/import`): the layouts
 * `user@domain,password` and `username,domain,password`, see user-command.ts IMPORT_HELP.
 */
/** One thing wrong with one CSV line. */
export interface LineProblem {
  readonly line: number;
  readonly field: string;
  readonly problem: string;
}

type Layout = 'address' | 'split';

const LAYOUTS: Record<Layout, { readonly fields: readonly string[]; readonly text: string }> = {
  address: { fields: ['user@domain', 'password'], text: 'user@domain,password' },
  split: { fields: ['username', 'domain', 'password'], text: 'username,domain,password' },
};

/**
 * Turn CSV bytes into subscribers (with their line numbers), and the problems of every bad line.
 * Checks each line alone and against the lines before it; not against the database.
 */
export function readSubscriberCsv(bytes: Buffer, defaultDomain: string | undefined): { subscribers: Array<[number, NewSubscriber]>; problems: LineProblem[] } {
  let text: string;
  let validUtf8 = true;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('utf-8').decode(bytes);
    validUtf8 = false;
  }
  const csv = parseCsv(text);
  const problems: LineProblem[] = csv.errors.map((e) => ({ line: e.line, field: 'record', problem: e.message }));
  const records: CsvRecord[] = [...csv.records];

  let layout: Layout | undefined;
  const header = records[0]?.fields.map((f) => f.trim().toLowerCase()).join(',');
  if (header === LAYOUTS.address.text) layout = 'address';
  else if (header === LAYOUTS.split.text) layout = 'split';
  if (layout) records.shift();
  else layout = records.find((r) => r.fields.length === 2 || r.fields.length === 3)?.fields.length === 3 ? 'split' : 'address';
  const shape = LAYOUTS[layout];

  const subscribers: Array<[number, NewSubscriber]> = [];
  const firstLine = new Map<string, number>();
  for (const { line, fields } of records) {
    const bad = (field: string, problem: string): void => void problems.push({ line, field, problem });
    if (fields.length > shape.fields.length) {
      bad('record', `${fields.length} fields, expected ${shape.fields.length} (${shape.text})`);
      continue;
    }
    if (fields.length < shape.fields.length) {
      bad(shape.fields[fields.length]!, `missing (lines in this file are ${shape.text})`);
      continue;
    }
    if (!validUtf8) {
      const at = fields.findIndex((f) => f.includes('\ufffd'));
      if (at >= 0) {
        bad(shape.fields[at]!, 'not valid UTF-8');
        continue;
      }
    }
    let username: string;
    let domain: string;
    let password: string;
    if (layout === 'address') {
      const address = stripScheme(fields[0]!);
      const at = address.indexOf('@');
      password = fields[1]!;
      username = at < 0 ? address : address.slice(0, at);
      if (at < 0 && defaultDomain === undefined) {
        bad(address === '' ? 'user@domain' : 'domain', address === '' ? 'missing' : `missing in ${JSON.stringify(address)} (write user@domain, or pass --domain)`);
        continue;
      }
      domain = at < 0 ? defaultDomain! : address.slice(at + 1);
    } else {
      [username, domain, password] = fields as [string, string, string];
      if (domain === '' && defaultDomain !== undefined) domain = defaultDomain;
    }
    const empty = username === '' ? 'username' : domain === '' ? 'domain' : password === '' ? 'password' : undefined;
    if (empty !== undefined) {
      bad(empty, 'missing');
      continue;
    }
    const result = checkSubscriber({ username, domain, password });
    if (!result.ok) {
      bad(result.error.field, result.error.problem);
      continue;
    }
    const key = `${result.value.username}@${result.value.domain}`;
    const earlier = firstLine.get(key);
    if (earlier !== undefined) {
      bad('username', `${key} is already on line ${earlier}`);
      continue;
    }
    firstLine.set(key, line);
    subscribers.push([line, result.value]);
  }
  return { subscribers, problems };
}

/** `sip:alice@example.com` → `alice@example.com`. */
export function stripScheme(text: string): string {
  return text.replace(/^sips?:/iu, '');
}
