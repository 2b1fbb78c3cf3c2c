/**
 * Splits a HEP-over-TCP byte stream into HEPv3 packets. HEP has no other framing on a stream:
 * each packet begins with "HEP3" and its 16-bit total length (HEP3 specification, sipcapture/HEP),
 * so a packet ends where that length says. Bytes that do not begin with "HEP3" where a packet
 * should begin (or a total length under 6) mean the stream has lost its framing: the framer
 * fails for good and the connection should close.
 *
 * Linear in the input however the stream is cut: packets whole in a pushed chunk are handed out
 * as views of it (no copy); the bytes of a packet that spans chunks are copied once into a buffer
 * sized for that packet as soon as its header is in. A view is valid until the next `push`, and
 * a buffer handed out is never written again.
 */
import { HEP_HEADER_SIZE, type HepDecodeError } from './packet.js';

export class HepStreamFramer {
  /** The pending packet's bytes (its header first), or the first < 6 bytes of one. */
  private buf = new Uint8Array(HEP_HEADER_SIZE);
  private have = 0;
  /** Bytes of the stream before the pending packet, for the offset of an error. */
  private streamOffset = 0;
  private failure: HepDecodeError | undefined;
  /** Bytes copied into buffers so far (for the linearity test). */
  copiedBytes = 0;

  constructor(private readonly onPacket: (bytes: Uint8Array) => void) {}

  /** The error that ended framing, if any. */
  get error(): HepDecodeError | undefined {
    return this.failure;
  }

  /** Bytes held for a packet not yet complete. */
  get pending(): number {
    return this.have;
  }

  /** Feeds the next bytes of the stream; returns the error if the stream cannot be framed (then, and after, nothing more is delivered). */
  push(chunk: Uint8Array): HepDecodeError | undefined {
    if (this.failure) return this.failure;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.have === 0) {
        // nothing pending: packets whole in the chunk are views of it
        const left = chunk.length - pos;
        if (left >= HEP_HEADER_SIZE) {
          const size = this.check(chunk, pos, this.streamOffset);
          if (size < 0) return this.failure;
          if (left >= size) {
            this.onPacket(chunk.subarray(pos, pos + size));
            pos += size;
            this.streamOffset += size;
            continue;
          }
          this.buf = new Uint8Array(size);
        } else if (this.buf.length < HEP_HEADER_SIZE) {
          this.buf = new Uint8Array(HEP_HEADER_SIZE);
        }
      }
      if (this.have < HEP_HEADER_SIZE) {
        const n = Math.min(HEP_HEADER_SIZE - this.have, chunk.length - pos);
        this.copy(chunk, pos, n);
        pos += n;
        if (this.have < HEP_HEADER_SIZE) return undefined;
        const size = this.check(this.buf, 0, this.streamOffset);
        if (size < 0) return this.failure;
        if (this.buf.length !== size) {
          const grown = new Uint8Array(size);
          grown.set(this.buf.subarray(0, this.have));
          this.copiedBytes += this.have;
          this.buf = grown;
        }
      }
      const size = this.buf.length;
      const n = Math.min(size - this.have, chunk.length - pos);
      this.copy(chunk, pos, n);
      pos += n;
      if (this.have < size) return undefined;
      const packet = this.buf;
      this.buf = new Uint8Array(HEP_HEADER_SIZE); // the one handed out is never written again
      this.have = 0;
      this.streamOffset += size;
      this.onPacket(packet);
    }
    return undefined;
  }

  private copy(src: Uint8Array, pos: number, n: number): void {
    this.buf.set(src.subarray(pos, pos + n), this.have);
    this.have += n;
    this.copiedBytes += n;
  }

  /** The size of the packet whose header is at src[pos], or -1 (and the failure set) when it is not one. */
  private check(src: Uint8Array, pos: number, streamOffset: number): number {
    if (src[pos] !== 0x48 || src[pos + 1] !== 0x45 || src[pos + 2] !== 0x50 || src[pos + 3] !== 0x33) {
      this.failure = { reason: 'no "HEP3" magic where a packet should begin', offset: streamOffset };
      return -1;
    }
    const size = (src[pos + 4]! << 8) | src[pos + 5]!;
    if (size < HEP_HEADER_SIZE) {
      this.failure = { reason: `total length ${size} is less than the 6-byte header`, offset: streamOffset + 4 };
      return -1;
    }
    return size;
  }
}
