import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, describeSchema, validateConfig, type FieldSchema } from './config-schema.js';

/** One SIP listener. */
export interface ListenConfig {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
  /** Digest authentication for requests received here (false: a trusted interface). */
  readonly auth?: boolean;
}

/** Parley's configuration after validation, with every default filled in. */
export interface ParleyConfig {
  readonly dataDir: string;
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; readonly statsInterval: number };
  readonly sip: {
    readonly listen: readonly ListenConfig[];
    readonly tls: { readonly cert?: string; readonly key?: string };
    readonly timers: { readonly t1: number; readonly t2: number; readonly t4: number };
    readonly limits: {
      readonly maxMessageSize: number;
      readonly maxHeaders: number;
      readonly maxConnections: number;
      readonly maxConnectionsPerSource: number;
      readonly idleTimeout: number;
    };
    readonly serverName: string;
    readonly domains: readonly string[];
    readonly advertise?: string;
    readonly workers: number;
  };
  readonly registrar: { readonly minExpires: number; readonly maxExpires: number; readonly defaultExpires: number };
  readonly auth: {
    readonly algorithms: ReadonlyArray<'MD5' | 'SHA-256'>;
    readonly nonceLifetime: number;
    readonly nonceSecret?: string;
    readonly failureLimit: { readonly enabled: boolean; readonly maxFailures: number; readonly window: number; readonly blockTime: number };
  };
  readonly proxy: { readonly timerC: number; readonly outbound: ReadonlyArray<{ readonly domain: string; readonly uri: string }> };
  readonly routing: { readonly script?: string; readonly watch: boolean; readonly traceCallIdPrefix?: string };
}

const listenItem: FieldSchema & { kind: 'object' } = {
  kind: 'object',
  doc: 'A listener.',
  fields: {
    transport: { kind: 'string', enum: ['udp', 'tcp', 'tls'], doc: 'Transport of the listener.' },
    address: { kind: 'string', default: '0.0.0.0', doc: 'Local address to bind (IPv4 or IPv6, e.g. `::`).' },
    port: { kind: 'integer', min: 0, max: 65535, doc: 'Local port (5060 for UDP/TCP, 5061 for TLS by convention; 0 picks a free port).' },
    auth: { kind: 'boolean', default: true, doc: 'Digest authentication of requests received on this listener; `false` makes it a trusted interface (a trunk, a benchmark).' },
  },
};

export const CONFIG_SCHEMA: FieldSchema & { kind: 'object' } = {
  kind: 'object',
  doc: 'Parley configuration.',
  fields: {
    dataDir: { kind: 'string', default: './parley-data', doc: 'Directory for the database, the development TLS certificate and traces.' },
    log: {
      kind: 'object',
      doc: 'Logging.',
      fields: {
        level: { kind: 'string', default: 'info', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], doc: 'Least severe level written (JSON lines on stdout).' },
        statsInterval: { kind: 'integer', min: 1, max: 86400, default: 60, doc: 'Seconds between "stats" lines (transactions, proxy contexts, bindings, connections, counters, memory) at info level.' },
      },
    },
    sip: {
      kind: 'object',
      doc: 'SIP.',
      fields: {
        listen: {
          kind: 'list',
          item: listenItem,
          default: [
            { transport: 'udp', address: '0.0.0.0', port: 5060 },
            { transport: 'tcp', address: '0.0.0.0', port: 5060 },
            { transport: 'tls', address: '0.0.0.0', port: 5061 },
          ],
          doc: 'SIP listeners; several may share a transport.',
        },
        tls: {
          kind: 'object',
          doc: 'TLS.',
          fields: {
            cert: { kind: 'string', doc: 'PEM certificate chain file. Without cert and key a development certificate is generated into `dataDir/tls/`.' },
            key: { kind: 'string', doc: 'PEM private key file.' },
          },
        },
        timers: {
          kind: 'object',
          doc: 'RFC 3261 timers.',
          fields: {
            t1: { kind: 'integer', min: 10, max: 60000, default: 500, doc: 'T1, the round-trip time estimate, in ms (RFC 3261 §17.1.1.1).' },
            t2: { kind: 'integer', min: 100, max: 600000, default: 4000, doc: 'T2, the longest retransmit interval for non-INVITE requests and INVITE responses, in ms.' },
            t4: { kind: 'integer', min: 100, max: 600000, default: 5000, doc: 'T4, the longest time a message stays in the network, in ms.' },
          },
        },
        limits: {
          kind: 'object',
          doc: 'Limits.',
          fields: {
            maxMessageSize: { kind: 'integer', min: 1024, max: 1048576, default: 65535, doc: 'Largest SIP message accepted, in bytes; larger datagrams are dropped, larger stream messages close the connection.' },
            maxHeaders: { kind: 'integer', min: 16, max: 4096, default: 256, doc: 'Most header fields in one message.' },
            maxConnections: { kind: 'integer', min: 1, max: 1000000, default: 10000, doc: 'Most TCP/TLS connections open at once.' },
            maxConnectionsPerSource: { kind: 'integer', min: 1, max: 1000000, default: 100, doc: 'Most TCP/TLS connections from one source address.' },
            idleTimeout: { kind: 'integer', min: 1, max: 86400, default: 3600, doc: 'Seconds before an idle TCP/TLS connection is closed.' },
          },
        },
        serverName: { kind: 'string', default: 'Parley', doc: 'Value of the Server header in responses (empty: no header).' },
        domains: { kind: 'strings', default: [], doc: 'Domains Parley serves (AORs `user@domain`); empty: the host name and every local address.' },
        advertise: { kind: 'string', doc: 'Host (name or IP) put in Via and Record-Route; default: the listener address, or the first external one for a wildcard listener.' },
        workers: { kind: 'integer', min: 0, max: 64, default: 0, doc: 'SIP worker threads. 0: one per CPU core (1 on a single core). 1: all SIP work in the main thread. With more, the main thread keeps the sockets and connections and hands each message to the worker its Call-ID hashes to; each worker has its own transactions and a replica of the registrations.' },
      },
    },
    registrar: {
      kind: 'object',
      doc: 'Registrar (RFC 3261 §10.3).',
      fields: {
        minExpires: { kind: 'integer', min: 1, max: 86400, default: 60, doc: 'Shortest registration accepted, seconds; shorter gets 423 with Min-Expires.' },
        maxExpires: { kind: 'integer', min: 60, max: 604800, default: 86400, doc: 'Longest registration granted, seconds; longer requests are cut to it.' },
        defaultExpires: { kind: 'integer', min: 60, max: 604800, default: 3600, doc: 'Registration time when neither the Contact nor Expires says.' },
      },
    },
    auth: {
      kind: 'object',
      doc: 'Digest authentication (RFC 7616, RFC 8760).',
      fields: {
        algorithms: { kind: 'strings', default: ['MD5', 'SHA-256'], enum: ['MD5', 'SHA-256'], doc: 'Challenges offered, in order (MD5 first: browsers read only the first and do only MD5). Allowed: MD5, SHA-256.' },
        nonceLifetime: { kind: 'integer', min: 10, max: 3600, default: 300, doc: 'Seconds a nonce stays valid; an older one gets a challenge with stale=TRUE.' },
        nonceSecret: { kind: 'string', doc: 'Secret (16 bytes or more) that binds nonces to the server; several nodes share one. Default: random at each start.' },
        failureLimit: {
          kind: 'object',
          doc: 'Brute-force protection.',
          fields: {
            enabled: { kind: 'boolean', default: true, doc: 'Block sources that fail authentication too often.' },
            maxFailures: { kind: 'integer', min: 1, max: 100000, default: 10, doc: 'Failures (wrong password or unknown user) allowed per source in the window.' },
            window: { kind: 'integer', min: 1, max: 86400, default: 60, doc: 'Seconds over which failures are counted.' },
            blockTime: { kind: 'integer', min: 1, max: 86400, default: 300, doc: 'Seconds a source is answered 403 once over the limit (logged once per block).' },
          },
        },
      },
    },
    proxy: {
      kind: 'object',
      doc: 'Stateful proxy (RFC 3261 §16).',
      fields: {
        timerC: { kind: 'integer', min: 181, max: 3600, default: 181, doc: 'Timer C, seconds an INVITE branch may stay without a final response (more than three minutes, §16.6).' },
        outbound: {
          kind: 'list',
          doc: 'Where requests for domains Parley does not serve may go (only from local, authenticated users); without an entry they get 403 (no open relay).',
          item: {
            kind: 'object',
            doc: 'An outbound route.',
            fields: {
              domain: { kind: 'string', doc: 'Request-URI domain, or `*` for any.' },
              uri: { kind: 'string', doc: 'SIP URI of the outbound proxy or trunk, e.g. `sip:trunk.example.net;transport=tcp` (resolved with RFC 3263).' },
            },
          },
        },
      },
    },
    routing: {
      kind: 'object',
      doc: 'Routing script (docs/routing.md).',
      fields: {
        script: { kind: 'string', doc: 'Routing script file (TypeScript or JavaScript module, relative to the working directory); default: the built-in default script (the stock Kamailio behaviour). `--script` overrides it.' },
        watch: { kind: 'boolean', default: true, doc: 'Reload the script when one of its files changes (besides `parley reload` and SIGHUP).' },
        traceCallIdPrefix: { kind: 'string', minLength: 1, doc: 'Trace requests whose Call-ID starts with this prefix: a JSON report per request in `dataDir/traces/` (`parley trace show CALL-ID`). Unset: nothing is traced.' },
      },
    },
  },
};

/** Validate an already parsed configuration object (for tests and programmatic use). */
export function configFromObject(input: unknown): ParleyConfig {
  return validateConfig(CONFIG_SCHEMA, input ?? {}) as ParleyConfig;
}

/**
 * Read a configuration file, JSON or YAML (YAML is a superset of JSON, so one parser serves both
 * and gives line numbers for either). Throws ConfigError naming the file, line and key.
 */
export function loadConfigFile(file: string): ParleyConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('(file)', (e as Error).message, undefined, file);
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file = 'config'): ParleyConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError('(syntax)', e.message.split('\n')[0]!, e.linePos?.[0]?.line, file);
  }
  const lineOf = (path: ReadonlyArray<string | number>): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return validateConfig(CONFIG_SCHEMA, doc.toJS() ?? {}, lineOf, file) as ParleyConfig;
}

/** The documentation table of every key and its default (docs/configuration.md is made from it). */
export function configReference(): string {
  return ['| key | type | default | meaning |', '| --- | --- | --- | --- |', ...describeSchema(CONFIG_SCHEMA)].join('\n');
}

export { ConfigError };
