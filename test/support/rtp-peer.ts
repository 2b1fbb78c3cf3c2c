// A phone's media end for the media runtime's tests: a UDP socket on 127.0.0.1 that sends RTP
// packets and keeps what it receives, with the source of each.
import { createSocket, type Socket } from 'node:dgram';

export interface Received {
  readonly packet: Buffer;
  readonly address: string;
  readonly port: number;
}

export class RtpPeer {
  readonly received: Received[] = [];
  private seq = 0;

  private constructor(readonly socket: Socket) {
    socket.on('message', (packet, r) => this.received.push({ packet, address: r.address, port: r.port }));
  }

  static async open(port = 0): Promise<RtpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => resolve());
    });
    return new RtpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** An RTP packet (version 2) of payload type `pt` with 160 bytes of payload. */
  static packet(pt: number, seq: number, ssrc = 0x11223344, payload = 160): Buffer {
    const b = Buffer.alloc(12 + payload, 0xd5);
    b[0] = 0x80;
    b[1] = pt & 0x7f;
    b.writeUInt16BE(seq & 0xffff, 2);
    b.writeUInt32BE((seq * 160) >>> 0, 4);
    b.writeUInt32BE(ssrc, 8);
    return b;
  }

  /** An RTCP receiver report without report blocks (RFC 3550 §6.4.2). */
  static rtcp(ssrc = 0x11223344): Buffer {
    const b = Buffer.alloc(8);
    b[0] = 0x80;
    b[1] = 201;
    b.writeUInt16BE(1, 2);
    b.writeUInt32BE(ssrc, 4);
    return b;
  }

  sendRtp(pt: number, port: number, address = '127.0.0.1'): void {
    this.socket.send(RtpPeer.packet(pt, this.seq++), port, address);
  }

  send(b: Buffer, port: number, address = '127.0.0.1'): void {
    this.socket.send(b, port, address);
  }

  close(): void {
    this.socket.close();
  }
}

/** Wait until `done()` holds, checking every 10 ms, at most `tries` times (then false). */
export async function until(done: () => boolean, tries = 300): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return done();
}

/** UDP sockets this process has open (Node's handles). */
export function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
}
