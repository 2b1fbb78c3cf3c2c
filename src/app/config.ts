import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { DigestAlgorithm } from '../sip/digest/index.js';
import { ConfigError, describeSchema, formatPath, validateConfig, type FieldSchema } from './config-schema.js';
import { envKeys, overlayEnv, overlayError } from './config-env.js';

/** The environment a configuration is read with (`PARLEY_…` variables: config-env.ts). */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** One SIP listener. */
export interface ListenConfig {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
  /** Digest authentication for requests received here (false: a trusted interface). */
  readonly auth?: boolean;
  /** Digest algorithms offered here, in order; default `auth.algorithms`. */
  readonly algorithms?: ReadonlyArray<DigestAlgorithm>;
}

/** One HTTP listener: HTTPS (WSS) or plain HTTP (WS, for development). */
export interface HttpListenConfig {
  readonly transport: 'https' | 'http';
  readonly address: string;
  readonly port: number;
  /** Digest authentication for SIP requests received over WebSockets here (false: trusted). */
  readonly auth?: boolean;
  /** Digest algorithms offered to SIP requests received over WebSockets here; default `auth.algorithms`. */
  readonly algorithms?: ReadonlyArray<DigestAlgorithm>;
}

/** Parley's configuration after validation, with every default filled in. */
export interface ParleyConfig {
  readonly dataDir: string;
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; readonly format: 'auto' | 'json' | 'pretty'; readonly statsInterval: number };
  readonly sip: {
    readonly listen: readonly ListenConfig[];
    readonly tls: { readonly cert?: string; readonly key?: string };
    readonly timers: { readonly t1: number; readonly t2: number; readonly t4: number };
    readonly limits: {
      readonly maxMessageSize: number;
      readonly maxHeaders: number;
      readonly maxConnections: number;
      readonly maxConnectionsPerSource: number;
      readonly authenticatedReserve: number;
      readonly idleTimeout: number;
    };
    readonly serverName: string;
    readonly domains: readonly string[];
    readonly advertise?: string;
    readonly workers: number;
    readonly workerYoungGeneration: number;
    readonly workerQueue: { readonly maxMessages: number; readonly maxBytes: number };
    readonly workerWatchdog: number;
    readonly workerUdp: boolean;
  };
  readonly http: {
    readonly listen: readonly HttpListenConfig[];
    readonly origins: readonly string[];
    readonly sipPaths: readonly string[];
    readonly pingInterval: number;
  };
  readonly registrar: { readonly minExpires: number; readonly maxExpires: number; readonly defaultExpires: number; readonly synchronous: 'normal' | 'full'; readonly natDetection: 'auto' | 'always' | 'never' };
  readonly auth: {
    readonly algorithms: ReadonlyArray<DigestAlgorithm>;
    readonly nonceLifetime: number;
    readonly nonceSecret?: string;
    readonly subscriberCache: number;
    readonly failureLimit: { readonly enabled: boolean; readonly maxFailures: number; readonly window: number; readonly blockTime: number };
  };
  readonly proxy: {
    readonly timerC: number;
    readonly maxContextsPerSource: number;
    readonly callTimeout: number;
    readonly maxCalls: number;
    readonly outbound: ReadonlyArray<{ readonly domain: string; readonly uri: string }>;
    readonly recordRouteSecret?: string;
  };
  readonly phone: { readonly iceServers: readonly IceServerConfig[] };
  readonly routing: { readonly script?: string; readonly watch: boolean; readonly traceCallIdPrefix?: string };
  readonly metrics: { readonly allowLoopback: boolean };
  readonly turn: TurnConfig;
  readonly media: MediaConfig;
  readonly api: { readonly enabled: boolean; readonly bodyLimit: number; readonly importBodyLimit: number; readonly allowPlainHttp: boolean; readonly maxEventStreams: number; readonly cors: { readonly origins: readonly string[] } };
  readonly hep: HepConfig;
}

/** HEP (the Homer Encapsulation Protocol, src/hep): Parley as a collector of what capture agents send. */
export interface HepConfig {
  /** The collector inside `parley serve`: stores captured SIP messages by Call-ID (the dashboard's Captured view). */
  readonly listen: {
    /** `127.0.0.1:9060`, `[::]:9060`; unset: no collector. */
    readonly address?: string;
    readonly transports: ReadonlyArray<'udp' | 'tcp'>;
    /** When set, packets whose auth key chunk (0x000e) differs are dropped. */
    readonly authKey?: string;
  };
}

/** The media plane (src/media): anchored calls' RTP, on a thread of its own. */
export interface MediaConfig {
  readonly enabled: boolean;
  readonly anchor: 'auto' | 'always' | 'off';
  /** The bind address; default: the first SIP listener's. */
  readonly address?: string;
  /** The address written in SDP; default: `address` (a wildcard one: the host's first external address). */
  readonly advertise?: string;
  readonly ports: { readonly min: number; readonly max: number };
  readonly timeout: number;
  readonly maxSessions: number;
  /** rtpengine's ng control protocol over UDP (src/media/ng), for Kamailio's rtpengine module and the media benchmark. */
  readonly control: { readonly listen?: string; readonly allowRemote: boolean };
}

/** One TURN listener (RFC 8656 §3.1: UDP and TCP 3478, TLS 5349). */
export interface TurnListenConfig {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
}

/** The STUN/TURN server (src/turn), on a thread of its own. */
export interface TurnConfig {
  readonly enabled: boolean;
  /** Empty: UDP and TCP 3478 (TLS 5349 with a certificate) on each address of the SIP listeners, and off with a warning when taken. */
  readonly listen: readonly TurnListenConfig[];
  readonly realm?: string;
  readonly relayAddresses: readonly string[];
  readonly externalAddresses: readonly string[];
  readonly minPort: number;
  readonly maxPort: number;
  readonly lifetime: { readonly default: number; readonly max: number };
  readonly nonceLifetime: number;
  readonly peers: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly quotas: { readonly perUser: number; readonly perSource: number; readonly total: number };
  readonly bandwidth: number;
  /** TCP/TLS connections of the TURN listeners. */
  readonly connections: { readonly max: number; readonly perSource: number; readonly messageTimeout: number };
  readonly restSecrets: readonly string[];
  readonly restTtl: number;
  /** TURN URLs handed to Parley's pages with their credentials; empty: made from the listeners. */
  readonly urls: readonly string[];
}

/** One ICE server for the browser phone, as RTCPeerConnection's RTCIceServer takes it. */
export interface IceServerConfig {
  readonly urls: readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

const listenItem: FieldSchema & { kind: 'object' } = {
  kind: 'object',
  doc: 'A listener.',
  fields: {
    transport: { kind: 'string', enum: ['udp', 'tcp', 'tls'], doc: 'Transport of the listener.' },
    address: { kind: 'string', default: '0.0.0.0', doc: 'Local address to bind (IPv4 or IPv6, e.g. `::`).' },
    port: { kind: 'integer', min: 0, max: 65535, doc: 'Local port (5060 for UDP/TCP, 5061 for TLS by convention; 0 picks a free port).' },
    auth: { kind: 'boolean', default: true, doc: 'Digest authentication of requests received on this listener; `false` makes it a trusted interface (a trunk, a benchmark).' },
    algorithms: { kind: 'strings', enum: ['MD5', 'SHA-256'], minItems: 1, unique: true, doc: 'Digest challenges offered to requests received on this listener, in order, instead of `auth.algorithms` (e.g. `[MD5, SHA-256]` on a port for phones that answer SHA-256; see `auth.algorithms`). Default: `auth.algorithms`.' },
  },
};

const httpListenItem: FieldSchema & { kind: 'object' } = {
  kind: 'object',
  doc: 'An HTTP listener.',
  fields: {
    transport: { kind: 'string', enum: ['https', 'http'], doc: '`https` (TLS 1.2+, the certificate of `sip.tls`; WebSockets on it are WSS) or `http` (plain; WS, for development).' },
    address: { kind: 'string', default: '0.0.0.0', doc: 'Local address to bind (IPv4 or IPv6, e.g. `::`).' },
    port: { kind: 'integer', min: 0, max: 65535, doc: 'Local port (0 picks a free port).' },
    auth: { kind: 'boolean', default: true, doc: 'Digest authentication of SIP requests received over WebSockets on this listener; `false` trusts them (tests, a gateway in front).' },
    algorithms: { kind: 'strings', enum: ['MD5', 'SHA-256'], minItems: 1, unique: true, doc: 'Digest challenges offered to SIP requests received over WebSockets on this listener, instead of `auth.algorithms` (MD5 is put last there: browsers\' SIP stacks read only the last challenge). Default: `auth.algorithms`.' },
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
        level: { kind: 'string', default: 'info', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], doc: 'Least severe level written (on stdout).' },
        format: { kind: 'string', default: 'auto', enum: ['auto', 'json', 'pretty'], doc: 'How lines are written: `json` (one JSON object per line, for journald, Loki, jq), `pretty` (one readable line each: time, level, message, fields), `auto` (pretty when stdout is a terminal, JSON otherwise). Every thread writes the same format.' },
        statsInterval: { kind: 'integer', min: 1, max: 86400, default: 900, doc: 'Seconds between "stats" lines (transactions, proxy contexts, bindings, connections, counters, memory) at info level: every 15 minutes by default (the counters are on demand at `/metrics` and `parley stats`).' },
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
            maxMessageSize: { kind: 'integer', min: 1024, max: 1048576, default: 65535, doc: 'Largest SIP message accepted, in bytes. A larger request whose header section fits is answered `513 Message Too Large` (over a stream, then its connection is closed); otherwise a datagram is dropped and a stream connection closed (WebSocket: close code 1009, no SIP answer).' },
            maxHeaders: { kind: 'integer', min: 16, max: 4096, default: 256, doc: 'Most header fields in one message; a request with more is answered `513 Message Too Large`. One header field (folded lines joined) may have at most 16,384 characters, a fixed limit: a longer one is left out and the request answered 513.' },
            maxConnections: { kind: 'integer', min: 1, max: 1000000, default: 10000, doc: 'Most TCP/TLS/WebSocket connections open at once.' },
            maxConnectionsPerSource: { kind: 'integer', min: 1, max: 1000000, default: 100, doc: 'Most TCP/TLS/WebSocket connections from one source: an IPv4 address (IPv4-mapped IPv6 addresses count as IPv4), or an IPv6 /64 (a host usually has a whole /64 and can use a new address for every connection). The HTTP/HTTPS listeners hold at most as many sockets from one source (before and after a WebSocket upgrade), over all of them; one more is closed at once.' },
            authenticatedReserve: { kind: 'integer', min: 0, max: 90, default: 20, doc: 'Percent of `maxConnections` kept for sources that have authenticated: once the rest is taken, a new connection is accepted only from an IPv4 address or IPv6 /64 from which a request passed digest authentication within `registrar.maxExpires` seconds (so a phone that holds a registration still gets in while strangers fill the table), or that connects to a listener with `auth: false` (a trusted interface). Connections Parley opens itself may use the whole table. 0: no reserve.' },
            idleTimeout: { kind: 'integer', min: 1, max: 86400, default: 3600, doc: 'Seconds before an idle TCP/TLS/WebSocket connection is closed (WebSocket pings do not count as activity, SIP messages and CRLF keepalives do).' },
          },
        },
        serverName: { kind: 'string', default: 'Parley', doc: 'Value of the Server header in responses (empty: no header).' },
        domains: { kind: 'strings', default: [], doc: 'Domains Parley serves (AORs `user@domain`); empty: the host name and every local address.' },
        advertise: { kind: 'string', doc: 'Host (name or IP) put in Via and Record-Route; default: the listener address, or the first external one for a wildcard listener.' },
        workers: { kind: 'integer', min: -1, max: 64, default: -1, doc: 'SIP worker threads. -1: one per CPU core (none on a single core). 0: none, all SIP work in the main thread. N: the main thread keeps the connections (and the UDP sockets without `workerUdp`) and hands each message to the worker its Call-ID hashes to; each worker has its own transactions and a replica of the registrations.' },
        workerYoungGeneration: { kind: 'integer', min: 0, max: 4096, default: 96, doc: "MB of young generation (V8's nursery) for each SIP worker thread; 0: V8's default (48). A message's objects live for a few milliseconds, a registration's or completed transaction's for seconds or more: with a small nursery, many of the short-lived ones are still alive at a collection and get copied and promoted. Measured with two workers at 5,000 REGISTER/s: scavenging took 12 % of each worker with the default, 5 % with 96." },
        workerQueue: {
          kind: 'object',
          doc: 'The bound on what the socket thread hands one SIP worker and the worker has not yet taken.',
          fields: {
            maxMessages: { kind: 'integer', min: 16, max: 10000000, default: 10000, doc: 'Most received messages in flight to one SIP worker (handed to it by the socket thread, or by the other workers with `workerUdp`, and not yet taken). Beyond this or `maxBytes`, UDP datagrams for that worker are dropped and counted (`shedDatagrams` in the main stats line) and stream connections (TCP, TLS, WebSocket) whose messages go to it are not read until it has worked its queue down to half; one warning when this starts for a worker, one info line when it ends.' },
            maxBytes: { kind: 'integer', min: 1048576, max: 1073741824, default: 16777216, doc: 'Most bytes of received messages in flight to one SIP worker.' },
          },
        },
        workerWatchdog: { kind: 'integer', min: 0, max: 3600, default: 5, doc: "Seconds a SIP worker's event loop may go without turning (its heartbeat, a timer, stops) before the socket thread logs it, terminates it and starts another in its place (its transactions are lost; registrations are kept by the other workers and the store). 0: no watchdog. A legitimate burst (a garbage collection, a large batch) lasts milliseconds." },
        workerUdp: { kind: 'boolean', default: true, doc: "With SIP workers on Linux: each worker binds its own socket to every UDP listener's address and port (SO_REUSEPORT) and receives and sends its datagrams itself; the kernel picks the socket by the sender's address and port, and a datagram whose Call-ID belongs to another worker is handed to that worker directly. The main thread keeps the TCP, TLS and WebSocket connections. `false` (and other systems): the main thread reads every datagram and hands it to its worker, and sends what the workers send." },
      },
    },
    http: {
      kind: 'object',
      doc: 'The web server: SIP over WebSocket (RFC 7118), later the REST API and the pages.',
      fields: {
        listen: {
          kind: 'list',
          item: httpListenItem,
          default: [
            { transport: 'https', address: '0.0.0.0', port: 8443 },
            { transport: 'http', address: '127.0.0.1', port: 8080 },
          ],
          doc: 'HTTP listeners. Browsers connect their SIP stack to `wss://HOST:8443/sip`; the plain one on loopback serves development (`ws://127.0.0.1:8080/sip`; browsers treat localhost pages as secure).',
        },
        origins: { kind: 'strings', default: [], doc: 'Origins of web pages (`https://phone.example.com`) allowed to open WebSockets besides the same origin as Parley\'s own pages; `*` allows any. Clients that send no Origin (not browsers) are allowed.' },
        sipPaths: { kind: 'strings', default: ['/sip', '/'], doc: 'URL paths where a WebSocket upgrade with the subprotocol `sip` becomes a SIP connection (`/` for clients configured with a bare `wss://host:port`).' },
        pingInterval: { kind: 'integer', min: 0, max: 3600, default: 30, doc: 'Seconds between WebSocket pings; a connection that sends nothing, not even a pong, between two pings is closed (0: no pings).' },
      },
    },
    registrar: {
      kind: 'object',
      doc: 'Registrar (RFC 3261 §10.3).',
      fields: {
        minExpires: { kind: 'integer', min: 1, max: 86400, default: 60, doc: 'Shortest registration accepted, seconds; shorter gets 423 with Min-Expires.' },
        maxExpires: { kind: 'integer', min: 60, max: 604800, default: 86400, doc: 'Longest registration granted, seconds; longer requests are cut to it.' },
        defaultExpires: { kind: 'integer', min: 60, max: 604800, default: 3600, doc: 'Registration time when neither the Contact nor Expires says.' },
        synchronous: { kind: 'string', enum: ['normal', 'full'], default: 'normal', doc: 'How a batch of registrations is committed before the REGISTERs in it are answered 200 (SQLite `PRAGMA synchronous`, WAL): `normal` survives a crash of Parley (kill -9, out of memory) but a power loss or an OS crash may undo the last commits; `full` also fsyncs the log at every commit, so a power loss undoes none either, at the cost of an fsync per batch.' },
        natDetection: { kind: 'string', enum: ['auto', 'always', 'never'], default: 'auto', doc: 'Where calls to a phone registered over UDP go. `auto`: to the address and port its REGISTER came from when NAT is detected (as Kamailio\'s nat_uac_test 19: a private Contact address such as 10/8, 172.16/12, 192.168/16, 100.64/10 or fc00::/7 while the source address is not private, or a top Via whose sent-by differs from the source address or port; also a loopback Contact from another host, or a multicast or unspecified one), to its Contact otherwise; `always`: always to the source address and port (Kamailio\'s fix_nated_register on every REGISTER); `never`: always to the Contact. Phones registered over TCP, TLS or WebSocket, or with RFC 5626 outbound (`+sip.instance` with `reg-id`, or `;ob` in the Contact), are reached over the flow they registered from in every mode.' },
      },
    },
    auth: {
      kind: 'object',
      doc: 'Digest authentication (RFC 7616, RFC 8760).',
      fields: {
        algorithms: { kind: 'strings', default: ['MD5'], enum: ['MD5', 'SHA-256'], minItems: 1, unique: true, doc: 'Digest challenges offered (one per algorithm, on one nonce), in order, on every listener that does not set its own `algorithms`. MD5 alone by default, so that every common client registers: Debian\'s baresip (libre 1.x) gives up on any 401/407 that names SHA-256, whatever the order, and sipp reads only the first challenge. With `[MD5, SHA-256]` clients that follow RFC 8760 still take MD5 (the topmost they support); `[SHA-256, MD5]` has them take SHA-256, but sipp and older pjsip fail. Over WebSockets MD5 is moved last, as browsers\' SIP stacks read only the last challenge. Allowed: MD5, SHA-256.' },
        nonceLifetime: { kind: 'integer', min: 10, max: 3600, default: 300, doc: 'Seconds a nonce stays valid; an older one gets a challenge with stale=TRUE.' },
        nonceSecret: { kind: 'string', doc: 'Secret (16 bytes or more) that binds nonces to the server; several nodes share one. Default: random at each start.' },
        subscriberCache: { kind: 'integer', min: 0, max: 3600, default: 60, doc: 'Seconds a subscriber read for authentication (or found absent) is reused by a SIP thread. `parley user add/remove/passwd/import` tells a running server at once (control socket); a change made any other way counts after at most this long. 0: read the store every time. The TURN thread\'s USERHASH index (docs/turn.md) is remade for a hash it does not know at most once per this many seconds (60 at least).' },
        failureLimit: {
          kind: 'object',
          doc: 'Brute-force protection, one limiter for SIP, `POST /phone/turn-credentials` and the TURN server: failures on any of them count together, and a blocked source is refused by all.',
          fields: {
            enabled: { kind: 'boolean', default: true, doc: 'Block sources that fail authentication too often.' },
            maxFailures: { kind: 'integer', min: 1, max: 100000, default: 10, doc: 'Failures allowed per source in the window: wrong passwords and unknown users in credentials (SIP digest, the TURN credentials route\'s Basic login, TURN long-term and REST credentials), and what the routing script counts (the default script: requests from callers in other domains for users that do not exist).' },
            window: { kind: 'integer', min: 1, max: 86400, default: 60, doc: 'Seconds over which failures are counted.' },
            blockTime: { kind: 'integer', min: 1, max: 86400, default: 300, doc: 'Seconds a source is refused once over the limit (logged once per block): SIP answers 403, the TURN credentials route 429, the TURN server nothing at all.' },
          },
        },
      },
    },
    proxy: {
      kind: 'object',
      doc: 'Stateful proxy (RFC 3261 §16).',
      fields: {
        timerC: { kind: 'integer', min: 181, max: 3600, default: 181, doc: 'Timer C, seconds an INVITE branch may stay without a final response (more than three minutes, §16.6).' },
        maxContextsPerSource: { kind: 'integer', min: 0, max: 1000000, default: 1000, doc: 'Most requests from one source (an IPv4 address, an IPv6 /64) being relayed at once by each SIP core (worker thread), from the request until its final response; one more is answered `503 Service Unavailable` with `Retry-After`. A relayed INVITE holds about 40 kB until its final response (up to Timer C with a ringing phone): 20,000 INVITEs from one stranger to a user whose phone does not answer took 380 MB. Only strangers\' requests count: not those received on a listener with `auth: false` (a trunk, an SBC: many calls from one address), nor those whose credentials were verified. 0: no limit.' },
        callTimeout: { kind: 'integer', min: 60, max: 604800, default: 43200, doc: 'Seconds a call (an INVITE dialog relayed with Parley\'s Record-Route, listed by `parley calls` and `GET /api/v1/calls`) is kept without its BYE passing through Parley; then it leaves the list with reason `timeout` (no BYE is sent). Kamailio\'s dialog module has the same default (`default_timeout`, 12 hours).' },
        maxCalls: { kind: 'integer', min: 0, max: 10000000, default: 100000, doc: 'Most calls each SIP core (worker thread) tracks at once (about 1.8 kB of heap each); a call beyond is relayed as usual but not listed, has no call events and cannot be hung up by the operator (a warning is logged). 0: no call is tracked.' },
        recordRouteSecret: { kind: 'string', minLength: 16, doc: 'Key (16 characters or more) of the signature in Parley\'s Record-Route entries, which in-dialog requests must bring back to be relayed; nodes that share dialogs share one. Default: a random key made on first start and kept in `dataDir/record-route.key` (mode 0600), so that calls outlive a restart.' },
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
    phone: {
      kind: 'object',
      doc: 'The browser phone at `/phone` (served over HTTPS).',
      fields: {
        iceServers: {
          kind: 'list',
          doc: 'STUN/TURN servers the phone page gives its RTCPeerConnection (sent to the browser in `/phone/config.json`); empty: host candidates only, enough on one machine or one LAN.',
          item: {
            kind: 'object',
            doc: 'An ICE server.',
            fields: {
              urls: { kind: 'strings', required: true, doc: 'Its URLs, e.g. `[stun:stun.example.net:3478]` or `[turn:turn.example.net:3478?transport=udp]` (RFC 7064, RFC 7065).' },
              username: { kind: 'string', doc: 'TURN user name.' },
              credential: { kind: 'string', doc: 'TURN password; every visitor of the page can read it, so use a TURN account meant for that.' },
            },
          },
        },
      },
    },
    turn: {
      kind: 'object',
      doc: 'The STUN/TURN server (RFC 8489, RFC 8656), on a thread of its own beside SIP.',
      fields: {
        enabled: { kind: 'boolean', default: true, doc: 'Run the STUN/TURN server. `false`: no TURN thread, no TURN port.' },
        listen: {
          kind: 'list',
          item: {
            kind: 'object',
            doc: 'A TURN listener.',
            fields: {
              transport: { kind: 'string', enum: ['udp', 'tcp', 'tls'], doc: 'Transport of the listener: `udp`, `tcp`, or `tls` (the certificate of `sip.tls`, or the development one).' },
              address: { kind: 'string', default: '0.0.0.0', doc: 'Local address to bind (IPv4 or IPv6, e.g. `::`).' },
              port: { kind: 'integer', min: 0, max: 65535, doc: 'Local port (3478 for UDP/TCP, 5349 for TLS by convention; 0 picks a free port).' },
            },
          },
          doc: 'TURN listeners. Empty (the default): UDP and TCP 3478, and TLS 5349 when `sip.tls.cert` is set, on each address the SIP listeners bind (`0.0.0.0` when SIP listens on every address, `127.0.0.1` when only on loopback); when such a default port is taken (another TURN server on the host, a second Parley) Parley logs a warning and runs without TURN. Listeners named here are required: one that cannot be bound stops the start, naming its key.',
        },
        realm: { kind: 'string', minLength: 1, doc: 'REALM of the long-term credentials (RFC 8489 §9.2). Default: the SIP domain (`sip.domains[0]`, else the host\'s address), so that a subscriber\'s stored HA1s (MD5 and SHA-256 of `user:domain:password`) are its TURN keys for either password algorithm (RFC 8489 §9.2.2, docs/turn.md) and phones log in to TURN with their SIP password.' },
        relayAddresses: { kind: 'strings', default: [], doc: 'Local addresses the relayed transport addresses are taken on, at most one IPv4 and one IPv6. Default: the listener\'s own address when it has one, else the host\'s first external address of each family.' },
        externalAddresses: { kind: 'strings', default: [], doc: 'Public addresses put in XOR-RELAYED-ADDRESS instead of the relay address of the same family, for a server behind a 1:1 NAT (coturn\'s `external-ip`). Default: the relay addresses themselves.' },
        minPort: { kind: 'integer', min: 1024, max: 65535, default: 49152, doc: 'Lowest port of relayed transport addresses (RFC 8656 §7.2: 49152-65535 by default).' },
        maxPort: { kind: 'integer', min: 1024, max: 65535, default: 65535, doc: 'Highest port of relayed transport addresses; an Allocate finding no free port gets `508 Insufficient Capacity`.' },
        lifetime: {
          kind: 'object',
          doc: 'Allocation lifetimes (RFC 8656 §7.2).',
          fields: {
            default: { kind: 'integer', min: 60, max: 86400, default: 600, doc: 'Seconds an allocation lasts when the client asks for no LIFETIME or a shorter one (the RFC\'s 10 minutes).' },
            max: { kind: 'integer', min: 60, max: 86400, default: 3600, doc: 'Longest lifetime granted, seconds; a longer request is cut to it.' },
          },
        },
        nonceLifetime: { kind: 'integer', min: 10, max: 86400, default: 600, doc: 'Seconds a TURN nonce stays valid; a request with an older one is answered `438 Stale Nonce` with a new one (RFC 8489 §9.2.4).' },
        peers: {
          kind: 'object',
          doc: 'Which peer addresses may be relayed to (checked on CreatePermission, ChannelBind and Send, after the address is put in canonical form: IPv4-mapped, -compatible, NAT64 and 6to4 forms of an IPv4 address count as that address).',
          fields: {
            allow: { kind: 'strings', default: [], doc: 'CIDRs allowed although denied by default (loopback, private, link-local, unspecified, multicast, broadcast and Parley\'s own addresses are denied by default), e.g. `[10.0.0.0/8]` for a LAN behind the server, `[127.0.0.1/32]` for tests on one host. Parley\'s own addresses stay denied under a wider allow: only one as narrow as the address (`/32`, `/128`) opens it.' },
            deny: { kind: 'strings', default: [], doc: 'CIDRs denied besides the defaults.' },
          },
        },
        quotas: {
          kind: 'object',
          doc: 'Allocation quotas; one more is answered `486 Allocation Quota Reached`.',
          fields: {
            perUser: { kind: 'integer', min: 0, max: 1000000, default: 100, doc: 'Most allocations one user holds at once (a REST user counts by the name after the expiry). 0: no limit.' },
            perSource: { kind: 'integer', min: 0, max: 1000000, default: 100, doc: 'Most allocations held at once from one source, over UDP, TCP and TLS: an IPv4 address (whatever its ports), or an IPv6 /64 (as `sip.limits.maxConnectionsPerSource` counts), so that one host cannot take the server\'s share with many usernames (REST credentials make them cheap). 0: no limit.' },
            total: { kind: 'integer', min: 0, max: 10000000, default: 10000, doc: 'Most allocations the server holds at once. 0: no limit (the port range still bounds them).' },
          },
        },
        connections: {
          kind: 'object',
          doc: 'TCP and TLS connections of the TURN listeners (each one a client\'s 5-tuple, RFC 8656 §3.1); a connection silent for `lifetime.max` seconds is closed.',
          fields: {
            max: { kind: 'integer', min: 1, max: 1000000, default: 10000, doc: 'Most TCP/TLS connections open at once, per listener; one more is closed at once.' },
            perSource: { kind: 'integer', min: 1, max: 1000000, default: 100, doc: 'Most TCP/TLS connections open at once from one source, per listener: an IPv4 address (IPv4-mapped IPv6 addresses count as IPv4), or an IPv6 /64, the rule of `sip.limits.maxConnectionsPerSource`; one more is closed at once.' },
            messageTimeout: { kind: 'integer', min: 1, max: 3600, default: 10, doc: 'Seconds within which a STUN or ChannelData message must come whole once its first byte is in, and the first message once the connection is open (after the TLS handshake); a connection that sends nothing or trickles a message a byte at a time (slowloris) is closed.' },
          },
        },
        bandwidth: { kind: 'integer', min: 0, max: 1000000000, default: 1250000, doc: 'Most bytes per second relayed for one allocation, both ways together (10 Mbit/s by default: several HD video streams); packets beyond it are dropped. 0: no limit.' },
        restSecrets: { kind: 'strings', default: [], doc: 'Shared secrets of time-limited REST credentials (username `expiry:user`, password base64(HMAC-SHA1(secret, username)), as coturn\'s `use-auth-secret`); several for rotation (the first signs new credentials, every one is accepted). Empty: Parley makes a secret of its own at the first start and keeps it in `dataDir/turn-rest.secret` (mode 0600), so that the phone page gets TURN credentials with no configuration.' },
        restTtl: { kind: 'integer', min: 60, max: 604800, default: 86400, doc: 'Seconds the REST credentials Parley hands out stay valid.' },
        urls: { kind: 'strings', default: [], doc: 'TURN URLs the phone page gets with its credentials (`POST /phone/turn-credentials`, docs/turn.md), e.g. `[turn:turn.example.net:3478?transport=udp, turns:turn.example.net:5349?transport=tcp]`: the public names and ports when the server is behind NAT or a load balancer. Empty: one URL per TURN listener, named by its address, or by the host the page was loaded from when the listener binds a wildcard address.' },
      },
    },
    media: {
      kind: 'object',
      doc: 'The media plane (rtpengine\'s job): RTP of anchored calls relayed through Parley, on a thread of its own beside SIP (docs/media.md).',
      fields: {
        enabled: { kind: 'boolean', default: true, doc: 'Run the media plane. `false`: no media thread, no media ports; the proxy never rewrites SDP.' },
        anchor: { kind: 'string', enum: ['auto', 'always', 'off'], default: 'auto', doc: 'Which calls the proxy anchors when the routing script does not say (`RelayOptions.media`): `auto` when the two sides speak differently (a browser and a SIP phone), the caller is behind NAT, or no codec in common is likely; `always`; `off`.' },
        address: { kind: 'string', minLength: 1, doc: 'Local address the media ports are bound on (one family: offers of the other one are answered 488). Default: the first SIP listener\'s address.' },
        advertise: { kind: 'string', minLength: 1, doc: 'Address written in the SDP Parley sends (c= and candidates), for a server behind a 1:1 NAT. Default: `address`, or the host\'s first external address when `address` is a wildcard.' },
        ports: {
          kind: 'object',
          doc: 'The UDP port range of media: two ports (RTP on an even port, RTCP on the next) per side of a call towards a phone, one (rtcp-mux) towards a browser.',
          fields: {
            min: { kind: 'integer', min: 1024, max: 65535, default: 40000, doc: 'Lowest media port.' },
            max: { kind: 'integer', min: 1024, max: 65535, default: 49999, doc: 'Highest media port; an offer finding no free port is answered `503` with `Warning: 399 "no media ports"`.' },
          },
        },
        timeout: { kind: 'integer', min: 1, max: 86400, default: 60, doc: 'Seconds without a packet from either side (and without signaling) after which an anchored call\'s media session is deleted and its ports freed; also the longest wait for an answer after an offer.' },
        maxSessions: { kind: 'integer', min: 1, max: 1000000, default: 2000, doc: 'Most anchored calls at once; one more offer is answered `503` with `Warning: 399 "too many media sessions"`.' },
        control: {
          kind: 'object',
          doc: "rtpengine's ng control protocol (a cookie and a bencoded dictionary over UDP: `ping`, `offer`, `answer`, `delete`), so that Kamailio's rtpengine module or a benchmark drives Parley's media plane as it drives rtpengine.",
          fields: {
            listen: { kind: 'string', minLength: 1, doc: 'Address and port of the ng control socket, e.g. `127.0.0.1:2223` or `[::1]:2223` (an IP address, not a name). Unset (the default): no control socket. Whoever can send to it can open media relays through Parley, so only a loopback address is accepted unless `allowRemote` is true.' },
            allowRemote: { kind: 'boolean', default: false, doc: 'Accept a `listen` address that is not loopback (a private interface shared with the SIP proxy); the ng protocol has no authentication, so firewall it.' },
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
    api: {
      kind: 'object',
      doc: 'The REST API on the HTTP listeners (`/api/v1/…`, OpenAPI at `/api/openapi.json`; docs/operations.md).',
      fields: {
        enabled: { kind: 'boolean', default: true, doc: 'Serve the REST API, `/metrics` and `/readyz` on the HTTP listeners of `http.listen`.' },
        bodyLimit: { kind: 'integer', min: 1024, max: 104857600, default: 1048576, doc: 'Largest request body the API reads, bytes; a larger one is answered 413.' },
        importBodyLimit: { kind: 'integer', min: 1024, max: 1073741824, default: 16777216, doc: 'Largest body of `POST /api/v1/subscribers/import` (a JSON array or CSV), bytes.' },
        allowPlainHttp: { kind: 'boolean', default: false, doc: 'Serve the API (and take tokens and passwords) over plain HTTP from requests that do not arrive on a loopback address. Off: such requests are answered 403; use an `https` listener.' },
        maxEventStreams: { kind: 'integer', min: 1, max: 10000, default: 100, doc: 'Event streams (`/api/v1/events`, WebSocket and SSE) open at once; one more is answered 503.' },
        cors: {
          kind: 'object',
          doc: 'Cross-origin requests from browsers (CORS).',
          fields: {
            origins: { kind: 'strings', default: [], doc: 'Origins (`https://crm.example.com`) whose pages may call the API; `*` any. Empty: no CORS headers, so browsers keep pages of other origins out.' },
          },
        },
      },
    },
    metrics: {
      kind: 'object',
      doc: 'Prometheus metrics at `/metrics` on the HTTP listeners (docs/operations.md, "Metrics").',
      fields: {
        allowLoopback: { kind: 'boolean', default: true, doc: 'Answer `/metrics` without a token to requests from loopback addresses (127.0.0.0/8, ::1), as Kamailio\'s xhttp_prom on a local port; `false`: a `read` API token is always needed.' },
      },
    },
    hep: {
      kind: 'object',
      doc: 'HEP, the Homer Encapsulation Protocol (HEPv3): copies of SIP messages between capture agents and collectors such as Homer.',
      fields: {
        listen: {
          kind: 'object',
          doc: "A HEP collector inside `parley serve`: the SIP messages capture agents (Kamailio's siptrace, another Parley, heplify) send are stored by Call-ID in the data directory, listed at `GET /api/v1/captures` and drawn as ladders in the dashboard's Captured view.",
          fields: {
            address: { kind: 'string', minLength: 1, doc: 'Address and port the collector listens on, e.g. `127.0.0.1:9060` or `[::]:9060` (an IP address, not a name; 9060 is HEP\'s usual port). Unset (the default): no collector.' },
            transports: { kind: 'strings', enum: ['udp', 'tcp'], default: ['udp', 'tcp'], minItems: 1, unique: true, doc: 'Transports the collector takes HEP on, both on `address`\'s port: `udp` (a packet per datagram) and `tcp` (packets back to back).' },
            authKey: { kind: 'string', minLength: 1, doc: 'When set, a packet whose auth key chunk (0x000e; Kamailio siptrace\'s `auth_key` parameter) is missing or differs is dropped and counted. HEP sends the key in clear: it sorts agents, it does not secure them (keep the collector on a private network).' },
          },
        },
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
  return readConfigFile(file).config;
}

/**
 * A configuration file read and validated, with `locate`, which names where a key was set
 * (`parley.yaml:7: sip.tls.cert`), for the errors found only when the server starts (a port in
 * use, a certificate that cannot be read). Throws ConfigError like loadConfigFile.
 */
export function readConfigFile(file: string, env: ConfigEnv = {}): { config: ParleyConfig; locate: ConfigLocator } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('(file)', (e as Error).message, undefined, file);
  }
  return readConfigText(text, file, env);
}

/**
 * No file: the defaults, with what the `PARLEY_…` variables of `env` set (config-env.ts). Throws
 * ConfigError naming the variable.
 */
export function readConfigEnv(env: ConfigEnv): { config: ParleyConfig; locate: ConfigLocator } {
  const { document, variables } = overlayEnv(CONFIG_SCHEMA, {}, env);
  let config: ParleyConfig;
  try {
    config = validateConfig(CONFIG_SCHEMA, document) as ParleyConfig;
  } catch (e) {
    throw e instanceof ConfigError ? overlayError(e, variables) : e;
  }
  const locate: ConfigLocator = (path) => envLocation(path, variables) ?? formatPath(path);
  return { config, locate };
}

/** `PARLEY_SIP_WORKERS (environment)` when a variable set the key (or the list it is in). */
function envLocation(path: ReadonlyArray<string | number>, variables: ReadonlyMap<string, string>): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const v = variables.get(formatPath(path.slice(0, n)));
    if (v !== undefined) return `${v} (environment): ${formatPath(path)}`;
  }
  return undefined;
}

export function parseConfigText(text: string, file = 'config'): ParleyConfig {
  return readConfigText(text, file).config;
}

/**
 * Names where a configuration key came from, for a message: `parley.yaml:7: sip.tls.cert` when the
 * file sets it, `parley.yaml: sip.listen[0] (default)` when the default applies, or what the
 * command line gave instead (`--listen udp:127.0.0.1:5060`).
 */
export type ConfigLocator = (path: ReadonlyArray<string | number>) => string;

/** Without a file: the key alone. */
export const keyOnly: ConfigLocator = (path) => formatPath(path);

function readConfigText(text: string, file: string, env: ConfigEnv = {}): { config: ParleyConfig; locate: ConfigLocator } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError('(syntax)', e.message.split('\n')[0]!, e.linePos?.[0]?.line, file);
  }
  const lineAt = (path: ReadonlyArray<string | number>): number | undefined => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  };
  const lineOf = (path: ReadonlyArray<string | number>): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const line = lineAt(path.slice(0, n));
      if (line !== undefined) return line;
    }
    return undefined;
  };
  // the environment over the file (file < environment < command line)
  const { document, variables } = overlayEnv(CONFIG_SCHEMA, doc.toJS() ?? {}, env);
  let config: ParleyConfig;
  try {
    config = validateConfig(CONFIG_SCHEMA, document, lineOf, file) as ParleyConfig;
  } catch (e) {
    throw e instanceof ConfigError ? overlayError(e, variables) : e;
  }
  const locate: ConfigLocator = (path) => {
    const fromEnv = envLocation(path, variables);
    if (fromEnv !== undefined) return fromEnv;
    const line = path.length > 0 ? lineAt(path) : undefined;
    return line === undefined ? `${file}: ${formatPath(path)} (default)` : `${file}:${line}: ${formatPath(path)}`;
  };
  return { config, locate };
}

/** The documentation table of every key and its default (docs/configuration.md is made from it). */
export function configReference(): string {
  return ['| key | type | default | meaning |', '| --- | --- | --- | --- |', ...describeSchema(CONFIG_SCHEMA)].join('\n');
}

/**
 * Every problem of a configuration file (`parley config check`): its syntax errors, else each key
 * in error with its line; with `env`, the `PARLEY_…` variables over it. Empty: the server would
 * take it (what only starting can tell, a port in use or a certificate that cannot be read, aside).
 */
export function checkConfigFile(file: string, env: ConfigEnv = {}): ConfigError[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return [new ConfigError('(file)', (e as Error).message, undefined, file)];
  }
  return checkConfigText(text, file, env);
}

/** The same for a configuration's text (`POST /api/v1/config/check`); `file` names it in the errors. */
export function checkConfigText(text: string, file = 'config', env: ConfigEnv = {}): ConfigError[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) return doc.errors.map((e) => new ConfigError('(syntax)', e.message.split('\n')[0]!, e.linePos?.[0]?.line, file));
  const lineOf = (path: ReadonlyArray<string | number>): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  let overlay;
  try {
    overlay = overlayEnv(CONFIG_SCHEMA, doc.toJS() ?? {}, env);
  } catch (e) {
    if (e instanceof ConfigError) return [e];
    throw e;
  }
  const errors: ConfigError[] = [];
  validateConfig(CONFIG_SCHEMA, overlay.document, lineOf, file, errors);
  return errors.map((e) => overlayError(e, overlay.variables));
}

/** The documentation table of every `PARLEY_…` variable (docs/configuration.md holds it). */
export function envReference(): string {
  const how = (k: ReturnType<typeof envKeys>[number]): string => {
    switch (k.schema.kind) {
      case 'integer':
        return 'integer';
      case 'boolean':
        return '`true` / `false`';
      case 'strings':
        return 'JSON list or comma-separated';
      case 'list':
        return 'JSON list';
      case 'string':
        return k.schema.enum ? k.schema.enum.join(' \\| ') : 'string';
    }
  };
  return ['| variable | key | value |', '| --- | --- | --- |', ...envKeys(CONFIG_SCHEMA).map((k) => `| \`${k.name}\` | \`${k.path.join('.')}\` | ${how(k)} |`)].join('\n');
}

export { ConfigError };
