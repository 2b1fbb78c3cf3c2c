// A STUN server of the smallest kind for the browser suites: it answers Binding requests
// (RFC 8489 §6.3.1: a success response with the XOR-MAPPED-ADDRESS the request came from) and
// counts them, so a test can see that a browser used the ICE servers Parley configured.
// IPv4 only, no authentication, no other method: enough for a browser's server-reflexive
// candidate gathering on loopback. (Parley's own STUN/TURN server comes in a later issue.)
import { createSocket, type RemoteInfo } from 'node:dgram';
import type { PortPool } from '../../interop/support/ports.js';

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;

export interface StunResponder {
  readonly port: number;
  /** Binding requests answered so far, with where they came from. */
  readonly requests: ReadonlyArray<{ address: string; port: number }>;
  close(): Promise<void>;
}

/** The success response to a Binding request (`request`: its 20-byte header at least), or undefined for anything else. */
export function bindingResponse(request: Buffer, from: Pick<RemoteInfo, 'address' | 'port'>): Buffer | undefined {
  if (request.length < 20 || request.readUInt16BE(0) !== BINDING_REQUEST || request.readUInt32BE(4) !== MAGIC_COOKIE) return undefined;
  const octets = from.address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) return undefined;
  const attr = Buffer.alloc(12);
  attr.writeUInt16BE(XOR_MAPPED_ADDRESS, 0);
  attr.writeUInt16BE(8, 2);
  attr.writeUInt8(0, 4);
  attr.writeUInt8(0x01, 5); // IPv4
  attr.writeUInt16BE(from.port ^ (MAGIC_COOKIE >>> 16), 6);
  const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  attr.writeUInt32BE((ip ^ MAGIC_COOKIE) >>> 0, 8);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(BINDING_SUCCESS, 0);
  header.writeUInt16BE(attr.length, 2);
  request.copy(header, 4, 4, 20); // magic cookie and transaction ID
  return Buffer.concat([header, attr]);
}

/** Listen on 127.0.0.1, on a port of the test file's pool. */
export async function startStunResponder(pool: PortPool): Promise<StunResponder> {
  const port = await pool.block(1);
  const socket = createSocket('udp4');
  const requests: Array<{ address: string; port: number }> = [];
  socket.on('message', (msg, from) => {
    const response = bindingResponse(msg, from);
    if (response === undefined) return;
    requests.push({ address: from.address, port: from.port });
    socket.send(response, from.port, from.address);
  });
  await new Promise<void>((res, rej) => {
    socket.once('error', rej);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', rej);
      res();
    });
  });
  return { port, requests, close: () => new Promise<void>((res) => socket.close(() => res())) };
}
