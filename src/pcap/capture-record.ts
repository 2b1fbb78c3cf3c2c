/** One packet of a capture file, as the file holds it (before any link-layer decoding). */
export interface CaptureRecord {
  /** Byte offset in the file of the record (pcap) or block (pcapng). */
  readonly offset: number;
  /** Capture time: whole seconds since 1970 (UTC) … */
  readonly seconds: number;
  /** … and nanoseconds (0–999,999,999). A pcapng Simple Packet Block has no time: both are 0. */
  readonly nanoseconds: number;
  /** The LINKTYPE_ value of the packet's interface (tcpdump.org/linktypes.html): 1 Ethernet, 113 SLL, … */
  readonly linkType: number;
  /** The pcapng interface (0 for pcap), counted from the section's first Interface Description Block. */
  readonly interfaceId: number;
  /**
   * The captured bytes: a view, valid until the reader's next `push` (copy what must live longer).
   * Fewer than `originalLength` when the capture's snapshot length cut the packet.
   */
  readonly data: Uint8Array;
  /** The packet's length on the wire. */
  readonly originalLength: number;
}

/**
 * A step of a file format's reader over the bytes from `pos`: either it used `used` bytes (one
 * header, record or block, which it has handed out), or it needs `need` bytes from `pos` to go on
 * (`said`: a header announced that many; otherwise a fixed header size), or the bytes are wrong.
 */
export type FormatStep =
  | { readonly kind: 'used'; readonly used: number }
  | { readonly kind: 'need'; readonly need: number; readonly what: string; readonly said: boolean }
  | { readonly kind: 'error'; readonly error: import('./capture-error.js').CaptureError };

export interface CaptureFormat {
  readonly name: 'pcap' | 'pcapng';
  /** One step over buf[pos, end); `offset` is the file offset of buf[pos]. */
  step(buf: Uint8Array, pos: number, end: number, offset: number): FormatStep;
}

/** Wireshark's largest snapshot length (WTAP_MAX_PACKET_SIZE_STANDARD): a record saying more is damaged. */
export const DEFAULT_MAX_CAPTURED = 262_144;
/** The largest pcapng block the reader accepts (our limit: a larger length is taken as damage). */
export const DEFAULT_MAX_BLOCK = 16 * 1024 * 1024;
