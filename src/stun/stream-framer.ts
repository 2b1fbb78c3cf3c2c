/**
 * Splits a TURN client's TCP or TLS byte stream into STUN messages and ChannelData messages
 * (RFC 8656 §12.5, RFC 6062). The first two bits of a frame tell which it is (RFC 8656 §12.4:
 * "the first two bits ... 0b01" for ChannelData, RFC 8489 §5: 0b00 for STUN); the header gives the
 * size: 20 + Message Length for STUN; 4 + Length, padded to a multiple of 4 ("Over TCP and
 * TLS-over-TCP, the ChannelData message MUST be padded"), for ChannelData. Anything else means the
 * stream has lost its framing: the framer fails for good and the connection should close.
 *
 * Linear in the input, however the stream is cut into chunks: a byte is copied into the framer's
 * buffer once and moved at most twice more (when the buffer grows before the pending frame's header
 * is in, and after frames were handed out from it); the buffer is sized for the pending frame as
 * soon as its header is known. Frames
 * are views, of the pushed chunk when a frame lies whole in it, else of the framer's buffer; a view
 * is valid until the next `push`, and the buffer it lies in is never written again (so a send
 * still queued with it is safe).
 */
import { ParleyError } from '../lib/errors.js';
import { CHANNEL_DATA_HEADER_SIZE } from './channel-data.js';
import { MAX_CHANNEL_NUMBER, MIN_CHANNEL_NUMBER } from './attribute-values.js';
import { STUN_HEADER_SIZE, type StunParseError } from './message.js';

export interface StunStreamHandlers {
  /** One whole STUN message (parse it with parseStunMessage). */
  onStun(bytes: Uint8Array): void;
  /** One ChannelData message: its channel number and its data, without padding. */
  onChannelData(channel: number, data: Uint8Array): void;
}

export interface StunStreamFramerOptions {
  /**
   * The highest channel number a ChannelData frame may carry; a higher one fails the stream.
   * Default MAX_CHANNEL_NUMBER (0x4FFF, RFC 8656 §12). A TURN server that binds RFC 5766's range
   * (0x4000-0x7FFF, as coturn's clients pick them) passes 0x7FFF: every frame whose first two
   * bits are 0b01 is then ChannelData.
   */
  readonly maxChannel?: number;
}

/** RFC 5766 §11: "Channel numbers 0x4000 through 0x7FFF"; the most a ChannelData header can carry. */
export const RFC5766_MAX_CHANNEL_NUMBER = 0x7fff;

export class StunStreamFramer {
  private buf = new Uint8Array(0);
  private start = 0;
  private end = 0;
  /** Bytes of the stream before buf[start], for the offset of an error. */
  private streamOffset = 0;
  /** Frames were handed out as views of buf: do not write into it again. */
  private lent = false;
  private failure: StunParseError | undefined;
  /** Bytes copied into buffers so far (for the linearity test). */
  copiedBytes = 0;

  private readonly maxChannel: number;

  constructor(
    private readonly handlers: StunStreamHandlers,
    options: StunStreamFramerOptions = {},
  ) {
    const max = options.maxChannel ?? MAX_CHANNEL_NUMBER;
    if (!Number.isInteger(max) || max < MIN_CHANNEL_NUMBER || max > RFC5766_MAX_CHANNEL_NUMBER) throw new ParleyError('ERR_INVALID_ARGUMENT', `StunStreamFramer: maxChannel ${max} is not between 0x4000 and 0x7fff`);
    this.maxChannel = max;
  }

  /** The error that ended framing, if any. */
  get error(): StunParseError | undefined {
    return this.failure;
  }

  /** Bytes held for a frame not yet complete. */
  get pending(): number {
    return this.end - this.start;
  }

  /** Feeds the next bytes of the stream; returns the error if the stream cannot be framed (then, and after, nothing more is delivered). */
  push(chunk: Uint8Array): StunParseError | undefined {
    if (this.failure) return this.failure;
    if (chunk.length === 0) return undefined;
    if (this.start === this.end) {
      // nothing pending: frames whole in the chunk are views of it
      const used = this.scan(chunk, 0, chunk.length);
      if (used < 0) return this.failure;
      this.streamOffset += used;
      this.start = this.end = 0;
      if (used < chunk.length) this.append(chunk.subarray(used));
      return undefined;
    }
    this.append(chunk);
    const used = this.scan(this.buf, this.start, this.end);
    if (used < 0) return this.failure;
    if (used > this.start) this.lent = true;
    this.streamOffset += used - this.start;
    this.start = used;
    if (this.start === this.end) this.start = this.end = 0;
    return undefined;
  }

  private append(bytes: Uint8Array): void {
    const pending = this.end - this.start;
    const need = pending + bytes.length;
    if (this.lent || this.buf.length - this.end < bytes.length) {
      if (!this.lent && this.buf.length >= need && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        // room for the whole frame that is pending, once its header is known: then it is not moved again
        const grown = new Uint8Array(Math.max(need, this.frameSize(bytes), this.lent ? 0 : this.buf.length * 2, 2048));
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
        this.lent = false;
      }
      this.copiedBytes += pending;
      this.start = 0;
      this.end = pending;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
    this.copiedBytes += bytes.length;
  }

  /** The size of the frame that starts at the first pending byte (the pending bytes, then `more`), or 0 before its 4 first bytes are in. */
  private frameSize(more: Uint8Array): number {
    const pending = this.end - this.start;
    if (pending + more.length < 4) return 0;
    const byte = (i: number): number => (i < pending ? this.buf[this.start + i]! : more[i - pending]!);
    const length = (byte(2) << 8) | byte(3);
    return byte(0) >> 6 === 0 ? STUN_HEADER_SIZE + length : CHANNEL_DATA_HEADER_SIZE + ((length + 3) & ~3);
  }

  /** Delivers the whole frames in src[pos, end); returns where the first incomplete one starts, or -1 on a framing error. */
  private scan(src: Uint8Array, pos: number, end: number): number {
    while (end - pos >= CHANNEL_DATA_HEADER_SIZE) {
      const b0 = src[pos]!;
      const top = b0 >> 6;
      if (top === 0) {
        if (end - pos < STUN_HEADER_SIZE) break;
        if (src[pos + 4] !== 0x21 || src[pos + 5] !== 0x12 || src[pos + 6] !== 0xa4 || src[pos + 7] !== 0x42) {
          return this.fail('STUN message without the magic cookie', pos + 4, src === this.buf);
        }
        const length = (src[pos + 2]! << 8) | src[pos + 3]!;
        if ((length & 3) !== 0) return this.fail(`STUN message length ${length} is not a multiple of 4`, pos + 2, src === this.buf);
        const size = STUN_HEADER_SIZE + length;
        if (end - pos < size) break;
        this.handlers.onStun(src.subarray(pos, pos + size));
        pos += size;
      } else if (top === 1) {
        const channel = (b0 << 8) | src[pos + 1]!;
        // top === 1: channel >= 0x4000 and <= 0x7fff
        if (channel > this.maxChannel) return this.fail(`channel number 0x${channel.toString(16)} is not between 0x4000 and 0x${this.maxChannel.toString(16)}`, pos, src === this.buf);
        const length = (src[pos + 2]! << 8) | src[pos + 3]!;
        const size = CHANNEL_DATA_HEADER_SIZE + ((length + 3) & ~3);
        if (end - pos < size) break;
        this.handlers.onChannelData(channel, src.subarray(pos + CHANNEL_DATA_HEADER_SIZE, pos + CHANNEL_DATA_HEADER_SIZE + length));
        pos += size;
      } else {
        return this.fail(`a frame cannot begin with byte 0x${b0.toString(16)} (neither STUN nor ChannelData)`, pos, src === this.buf);
      }
    }
    return pos;
  }

  private fail(reason: string, pos: number, inBuffer: boolean): -1 {
    // pos is an index into the buffer or the chunk; the error names the offset in the stream
    const offset = inBuffer ? this.streamOffset + (pos - this.start) : this.streamOffset + pos;
    this.failure = { reason, offset };
    return -1;
  }
}
