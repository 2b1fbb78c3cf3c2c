/**
 * Every regular expression in the code that reads network input runs in linear time (issue 14:
 * the start-line pattern /^([^ ]+) +(.*?) +SIP\/\d+\.\d+ *$/i backtracked cubically, so one 4 kB
 * datagram of spaces froze a SIP worker).
 *
 * How. Counting the steps of V8's own matcher is not possible from JavaScript (natives syntax is
 * not acceptable in tests), and timing is not allowed, so the check is static and by counting:
 *
 * 1. Every regular expression literal and RegExp constructor in the network-facing folders below
 *    is collected from the TypeScript syntax tree (not by grepping), and must be in AUDITED, with
 *    a note on what text it sees. A new pattern in these folders fails this test until someone
 *    has looked at it and added it; a pattern that has gone must leave the list too. A RegExp
 *    built from a variable cannot be checked and fails.
 * 2. Each pattern (with its flags) goes to recheck (devDependency, its pure-JavaScript back end:
 *    no native binary, no Java), which builds the pattern's automaton, decides its worst-case
 *    complexity from the automaton's ambiguity, and confirms a verdict of super-linear by running
 *    the attack string it built in its own backtracking machine and counting the steps. A pattern
 *    the automaton cannot represent (a look-ahead, large bounded repeats: here the
 *    flow token) goes to its fuzzer, which grows strings that maximise the counted steps of the
 *    same machine. Every pattern must come out "safe"; "unknown" (a timeout) fails too.
 * 3. The check can fail: the old start-line pattern must come out vulnerable (polynomial, degree
 *    3), so a checker that passes everything would fail here.
 *
 * The hand-written scanners of the same parsers are held to linear work by counting their
 * character reads on pathological inputs: src/sip/message/linear-work.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Folders whose code sees text from the network: SIP messages and their grammar, digest, STUN/TURN messages, the
 * server (transport, WebSocket, auth, proxy, registrar, core), HTTP, the routing API and scripts
 * (which read request text), the load tool (which reads the answers of the server it tests),
 * the TURN server (peer addresses, usernames), and src/lib (source addresses, shared by both servers).
 * Configuration parsing (src/app, src/cli) is exempt.
 */
const NETWORK_FOLDERS = ['src/sip', 'src/stun', 'src/sip-server', 'src/http', 'src/routing', 'src/load', 'src/turn', 'src/turn-check', 'src/lib', 'src/sdp', 'src/media', 'src/capture', 'src/pcap', 'src/hep', 'src/srtp', 'src/collector'];

/** file → its regular expressions, as written, with what they see. Reviewed for issue 14. */
const AUDITED: Record<string, Record<string, string>> = {
  'src/http/http-server.ts': { '/[?#]/': 'request URL: one character class' },
  'src/load/describe-error.ts': {
    '/Opening handshake has timed out/i': 'error message: literal',
    '/Server sent no subprotocol/i': 'error message: literal',
    '/Server sent an invalid subprotocol/i': 'error message: literal',
    '/wrong version number/i': 'error message: literal',
    '/\\b\\d{1,3}(\\.\\d{1,3}){3}:\\d+\\b/g': 'error message: bounded repeats',
    '/\\s+/g': 'error message: one run',
  },
  'src/load/digest-client.ts': { '/(["\\\\])/g': 'challenge values we quote: one class' },
  'src/load/fd-limit.ts': { '/^Max open files\\s+(\\S+)\\s+(\\S+)/m': '/proc/self/limits: disjoint runs' },
  'src/load/load-options.ts': {
    '/^\\[|\\]$/g': 'command line',
    '/^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+)(:\\d{1,5})?$/': 'command line',
    '/\\r?\\n/': 'password file',
    '/_/g': 'command line',
    '/^\\d+$/': 'command line',
    '/^(\\d+(?:\\.\\d+)?)(?:\\/s)?$/': 'command line',
    '/^(\\d+(?:\\.\\d+)?)(s|m|h)?$/': 'command line',
  },
  'src/load/loopback.ts': {
    '/^\\[|\\]$/g': 'host given or resolved',
    '/^(0{0,4}:){2,7}0{0,3}1$/': 'resolved address: bounded repeats',
    '/^::ffff:(\\d+\\.\\d+\\.\\d+\\.\\d+)$/': 'resolved address: runs split by dots',
  },
  'src/load/registering-user-agent.ts': { '/:\\d+$/': 'local socket address' },
  'src/load/udp-sip-connection.ts': { '/^(\\r\\n)+$/': 'datagram from the server: anchored, one run' },
  'src/load/user-pattern.ts': {
    '/%(%|0?\\d*d|.?)/g': 'command line',
    '/^0?\\d*d$/': 'command line',
    '/%%/g': 'command line',
  },
  'src/load/ws-sip-connection.ts': { '/^(\\r\\n)+$/': 'WebSocket message from the server, at most 4 bytes' },
  'src/routing/examples/trunks.ts': {
    '/^(112|911)$/': 'dialled number: literal',
    '/^\\+\\d{8,15}$/': 'dialled number: bounded',
    '/^0[1-9]\\d{6,11}$/': 'dialled number: bounded',
    '/^sip:/': 'configured trunk URI',
    '/^\\+?\\d+$/': 'dialled number: one run',
  },
  'src/routing/script-compiler.ts': { '/^parley(\\/.*)?$/': 'import paths of the script (esbuild filter)' },
  'src/routing/script-host.ts': { '/\\.[^.]*$/': 'script file name' },
  'src/routing/test-harness.ts': {
    '/^sips?:(?:[^@;>]*@)?(\\[[^\\]]+\\]|[^:;>]+)(?::(\\d+))?/': 'test input: anchored',
    '/;transport=(tcp|tls)/i': 'test input',
    '/^sips?:/': 'test input',
    '/^\\[(.*)\\]$/': 'test input',
    '/^sips?:([^@]+)@/': 'test input',
    '/branch=[^;,\\s]+/': 'Via we built',
    '/;received=[^;,\\s]+/': 'Via we built',
    '/;rport=\\d+/': 'Via we built',
  },
  'src/routing/trace-store.ts': { '/^\\./': 'Call-ID (encoded)', '/[^A-Za-z0-9_-]/g': 'method: one class' },
  'src/sip-server/auth/nonce-manager.ts': { '/^[A-Za-z0-9_-]+$/': 'nonce from Authorization: one run' },
  'src/sip-server/proxy/dns-resolver.ts': { '/^\\[(.*)\\]$/': 'host of a URI: anchored, one run' },
  'src/sip-server/proxy/route-signature.ts': { '/^[0-9a-f]+$/': 'rrsig parameter of a Route: anchored, one run' },
  'src/sip-server/proxy/flow-token.ts': { '/^fl([1-9][0-9]{0,14})-([0-9a-f]{16})$/': 'Route user part: bounded' },
  'src/sip-server/registrar/address-of-record.ts': { '/^\\[(.*)\\]$/': 'host of a To URI: anchored, one run' },
  'src/sip-server/transport/malformed-answer.ts': {
    '/size limit/': 'parse error detail: literal',
    '/["\\\\\\r\\n\\x00-\\x1f\\x7f]/g': 'parse error detail: one class',
  },
  'src/sip/digest/challenge.ts': { '/[\\r\\n]/': 'realm, nonce we send', '/(["\\\\])/g': 'realm, nonce we send' },
  'src/sip/digest/digest-credentials.ts': { '/^[0-9a-fA-F]{8}$/': 'nc: bounded', '/^[0-9a-fA-F]+$/': 'response, cnonce: one run' },
  'src/sip/grammar/digest.ts': { '/\\\\(.)/g': 'quoted auth-param value: one pair at a time' },
  'src/sip/grammar/misc.ts': {
    '/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)$/': 'Date: literals',
    '/^(\\w{3}), (\\d{2}) (\\w{3}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$/': 'Date: bounded',
  },
  'src/sip/grammar/name-addr.ts': { '/(["\\\\])/g': 'display name we serialize: one class' },
  'src/sip/grammar/params.ts': { '/\\\\(.)/g': 'quoted parameter value: one pair at a time' },
  'src/sip/grammar/scanner.ts': { '/^[0-9a-fA-F]{2}$/': 'two characters after %' },
  'src/sip/grammar/uri.ts': {
    '/^[0-9a-fA-F:.]+$/': 'IPv6 reference: one run',
    '/^[a-z][a-z0-9+.-]*$/': 'URI scheme: one run',
    '/[-.()]/g': 'tel number: one class',
  },
  'src/sip/message/header-names.ts': { '/(^|-)([a-z])/g': 'header name: bounded' },
  'src/sip/message/parse.ts': {
    '/^[\\r\\n]+/': 'leading CRLFs: anchored run',
  },
  'src/sip/message/sip-message.ts': { '/\\r?\\n[ \\t]+/g': 'folded header value: a run after a line end' },
};

interface Found {
  readonly file: string;
  readonly line: number;
  readonly literal: string;
  /** source and flags, or undefined when the RegExp is built from something that is not a literal */
  readonly source?: string;
  readonly flags?: string;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'testdata' && name !== 'node_modules') sourceFiles(p, out);
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Regular expression literals and RegExp(…) / new RegExp(…) in one file. */
function regexesIn(path: string): Found[] {
  const file = relative(ROOT, path);
  const sf = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Found[] = [];
  const lineOf = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const visit = (n: ts.Node): void => {
    if (n.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const literal = n.getText(sf);
      const slash = literal.lastIndexOf('/');
      found.push({ file, line: lineOf(n), literal, source: literal.slice(1, slash), flags: literal.slice(slash + 1) });
    } else if ((ts.isNewExpression(n) || ts.isCallExpression(n)) && ts.isIdentifier(n.expression) && n.expression.text === 'RegExp') {
      const [a, b] = n.arguments ?? [];
      const lit = (e: ts.Expression | undefined): string | undefined =>
        e !== undefined && (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) ? e.text : undefined;
      const source = lit(a);
      const flags = b === undefined ? '' : lit(b);
      found.push({ file, line: lineOf(n), literal: n.getText(sf), ...(source !== undefined && flags !== undefined ? { source, flags } : {}) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

const found = NETWORK_FOLDERS.flatMap((d) => sourceFiles(join(ROOT, d))).sort().flatMap(regexesIn);

/** The part of recheck's API used here (its own types are richer). */
type Diagnostics =
  | { readonly status: 'safe'; readonly checker: string; readonly complexity: { readonly type: string; readonly summary: string } }
  | {
      readonly status: 'vulnerable';
      readonly complexity: { readonly type: string; readonly summary: string; readonly degree?: number };
      readonly attack: { readonly pattern: string };
    }
  | { readonly status: 'unknown'; readonly error: { readonly kind: string } };
interface Recheck {
  check(source: string, flags: string, params?: { readonly timeout?: number }): Promise<Diagnostics>;
}

async function recheck(): Promise<Recheck> {
  // the pure-JavaScript back end: the same verdicts as the native one, without a binary or Java
  process.env.RECHECK_BACKEND = 'pure';
  const name = 'recheck';
  try {
    return (await import(name)) as Recheck;
  } catch (e) {
    assert.fail(`the devDependency "recheck" is missing (npm ci): ${(e as Error).message}`);
  }
}

describe('regular expressions that see network input', () => {
  it('are all in the audited list, and the list names no pattern that has gone', () => {
    assert.ok(found.length > 40, `found ${found.length} patterns: the collector is broken`);
    const unknown = found.filter((f) => AUDITED[f.file]?.[f.literal] === undefined);
    assert.deepEqual(
      unknown.map((f) => `${f.file}:${f.line} ${f.literal}`),
      [],
      'new regular expressions in network-facing code: check them for super-linear backtracking and add them to AUDITED',
    );
    const present = new Set(found.map((f) => `${f.file} ${f.literal}`));
    const stale = Object.entries(AUDITED).flatMap(([file, list]) => Object.keys(list).map((l) => `${file} ${l}`)).filter((k) => !present.has(k));
    assert.deepEqual(stale, [], 'AUDITED lists patterns that are no longer in the code');
  });

  it('are built from literals, so that they can be checked', () => {
    assert.deepEqual(found.filter((f) => f.source === undefined).map((f) => `${f.file}:${f.line} ${f.literal}`), []);
  });

  it('the checker finds the cubic start-line pattern of issue 14 (so it can fail)', async () => {
    const { check } = await recheck();
    const r = await check('^([^ ]+) +(.*?) +SIP\\/\\d+\\.\\d+ *$', 'i', { timeout: 20_000 });
    assert.equal(r.status, 'vulnerable');
    assert.ok(r.status === 'vulnerable' && r.complexity.type === 'polynomial' && r.complexity.degree === 3, JSON.stringify(r.complexity));
  });

  it('each runs in linear time at worst (recheck)', async () => {
    const { check } = await recheck();
    const unique = new Map<string, Found[]>();
    for (const f of found) {
      if (f.source === undefined) continue;
      const key = `/${f.source}/${f.flags}`;
      unique.set(key, [...(unique.get(key) ?? []), f]);
    }
    const bad: string[] = [];
    for (const [key, where] of unique) {
      const f = where[0]!;
      const r = await check(f.source!, f.flags!, { timeout: 20_000 });
      if (r.status !== 'safe') {
        const detail = r.status === 'vulnerable' ? `${r.complexity.summary}, attack ${r.attack.pattern}` : `unknown: ${r.error.kind}`;
        bad.push(`${where.map((w) => `${w.file}:${w.line}`).join(', ')} ${key}: ${detail}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
