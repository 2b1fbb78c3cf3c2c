/**
 * The static RTP payload types for audio of RFC 3551 §6, Table 4 (encoding name, clock rate,
 * channels): what an m-line's format means without an a=rtpmap. G.722's clock rate is 8000 by
 * RFC 3551 §4.5.2 ("the RTP clock rate ... is 8,000 Hz"), although it samples at 16 kHz.
 */
export interface StaticPayloadType {
  readonly name: string;
  readonly clockRate: number;
  readonly channels: number;
}

export const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, StaticPayloadType> = new Map([
  [0, { name: 'PCMU', clockRate: 8000, channels: 1 }],
  [3, { name: 'GSM', clockRate: 8000, channels: 1 }],
  [4, { name: 'G723', clockRate: 8000, channels: 1 }],
  [5, { name: 'DVI4', clockRate: 8000, channels: 1 }],
  [6, { name: 'DVI4', clockRate: 16000, channels: 1 }],
  [7, { name: 'LPC', clockRate: 8000, channels: 1 }],
  [8, { name: 'PCMA', clockRate: 8000, channels: 1 }],
  [9, { name: 'G722', clockRate: 8000, channels: 1 }],
  [10, { name: 'L16', clockRate: 44100, channels: 2 }],
  [11, { name: 'L16', clockRate: 44100, channels: 1 }],
  [12, { name: 'QCELP', clockRate: 8000, channels: 1 }],
  [13, { name: 'CN', clockRate: 8000, channels: 1 }],
  [14, { name: 'MPA', clockRate: 90000, channels: 1 }],
  [15, { name: 'G728', clockRate: 8000, channels: 1 }],
  [16, { name: 'DVI4', clockRate: 11025, channels: 1 }],
  [17, { name: 'DVI4', clockRate: 22050, channels: 1 }],
  [18, { name: 'G729', clockRate: 8000, channels: 1 }],
]);
