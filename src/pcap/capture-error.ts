/**
 * What went wrong reading a capture file: where (the byte offset in the file of the record or
 * block that failed, or of the first byte the reader could not use) and what was expected. The
 * reader returns these; it never throws on the file's bytes.
 */
export type CaptureErrorKind =
  /** The first bytes are no pcap or pcapng magic number. */
  | 'not-a-capture'
  /** The file ends inside a header, a record or a block. */
  | 'truncated'
  /** A header or block says something impossible (a length too small, a missing interface). */
  | 'malformed'
  /** A record or block is larger than the reader's limit (a damaged length, most likely). */
  | 'too-large';

export interface CaptureError {
  readonly kind: CaptureErrorKind;
  /** Byte offset in the file of the header, record or block the message is about. */
  readonly offset: number;
  /** For people: names the offset and what was expected, e.g. "truncated record at offset 40: header says 1514 bytes, 20 left". */
  readonly message: string;
}

export function captureError(kind: CaptureErrorKind, offset: number, message: string): CaptureError {
  return { kind, offset, message };
}

/** Hex of a 32-bit value as the error messages write it: 0x0a0d0d0a. */
export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
