/** A bound listener: its transport and where it listens (the real port when 0 was asked for). */
export interface ListenerInfo {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
}
