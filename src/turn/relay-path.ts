/**
 * The relay path (RFC 8656 §10, §12): a client's Send indication or ChannelData to its peer
 * through the allocation's relay socket, and a peer's datagram back to the client as ChannelData
 * (a bound channel) or a Data indication. Per packet: one Map lookup for the allocation by
 * 5-tuple, one for the channel or the peer, no parse beyond the 4-byte ChannelData header (a Send
 * indication is a STUN message, parsed as one), and no clock read: expiries are compared with
 * `now`, the time of the server's last tick.
 */
import { randomBytesFromPool } from '../lib/random-pool.js';
import { readXorAddress, StunAttr, StunMessageBuilder, StunMethod, type StunMessage } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { AllocationTable } from './allocation-table.js';
import type { Source } from './answers.js';
import { peerKey } from './channels.js';
import { fiveTupleKey, type TurnListener } from './five-tuple.js';
import type { PeerCheck } from './peer-address.js';
import type { TurnStats } from './server-stats.js';

/** Zeros for the padding of ChannelData over streams. */
const PADDING = new Uint8Array(3);

export class RelayPath {
  /** The clock's time at the server's last tick. */
  now: number;

  constructor(
    private readonly table: AllocationTable,
    /** The server's options: the peer policy is read from them at each Send indication. */
    private readonly o: { readonly peers: PeerCheck },
    private readonly stats: TurnStats,
    now: number,
  ) {
    this.now = now;
  }

  /**
   * RFC 8656 §10.2, a Send indication: "If the [XOR-PEER-ADDRESS or DATA] attribute is missing or
   * invalid, the server MUST discard the indication"; "the server MUST check that there is a
   * permission installed for the IP address contained in the XOR-PEER-ADDRESS attribute. If no
   * such permission exists, the message is discarded." The peer policy is asked again: a
   * permission may predate a change of the policy, and the check is a few comparisons.
   */
  sendIndication(src: Source, m: StunMessage): void {
    const a = this.table.get(fiveTupleKey(src.listener, src.address, src.port));
    const peerAttr = m.get(StunAttr.XOR_PEER_ADDRESS);
    const data = m.get(StunAttr.DATA);
    if (a === undefined || peerAttr === undefined || data === undefined) {
      this.stats.dropped++;
      return;
    }
    const read = readXorAddress(peerAttr, m.transactionId);
    if (!read.ok) {
      a.counters.dropped++;
      this.stats.relayDropped++;
      return;
    }
    const verdict = this.o.peers.check(read.value.address);
    // the relay socket of the peer's family in canonical form (::ffff:a.b.c.d is an IPv4 peer;
    // a dual allocation has two sockets, a TCP allocation none); the family as spelled must be
    // one of the allocation's too (443 for CreatePermission)
    const relay = verdict.ok ? a.udpRelay(verdict.address.includes(':') ? 6 : 4) : undefined;
    if (!verdict.ok || relay === undefined || a.udpRelay(read.value.family) === undefined || !a.permissions.has(verdict.address, this.now) || !a.mayRelayToPeer(data.value.length, this.now)) {
      a.counters.dropped++;
      this.stats.relayDropped++;
      return;
    }
    a.counters.bytesToPeer += data.value.length;
    a.counters.packetsToPeer++;
    relay.socket.send(data.value, read.value.port, verdict.address);
  }

  /**
   * RFC 8656 §12.5 (server side of ChannelData): "If the ChannelData message is received on a
   * channel that is not bound to any peer, then the message is silently discarded"; over UDP a
   * datagram shorter than the length it claims is discarded too.
   */
  channelDataFromClient(listener: TurnListener, msg: Uint8Array, address: string, port: number): void {
    const a = this.table.get(fiveTupleKey(listener, address, port));
    if (a === undefined || msg.length < 4) {
      this.stats.dropped++;
      return;
    }
    const length = (msg[2]! << 8) | msg[3]!;
    const binding = a.channels.byChannel((msg[0]! << 8) | msg[1]!, this.now);
    const relay = binding === undefined ? undefined : a.udpRelay(binding.peer.family);
    if (binding === undefined || relay === undefined || 4 + length > msg.length || !a.permissions.has(binding.peer.address, this.now) || !a.mayRelayToPeer(length, this.now)) {
      a.counters.dropped++;
      this.stats.relayDropped++;
      return;
    }
    a.counters.bytesToPeer += length;
    a.counters.packetsToPeer++;
    relay.socket.send(msg.subarray(4, 4 + length), binding.peer.port, binding.peer.address);
  }

  /**
   * RFC 8656 §10.3 and §12.7: data from a peer is relayed only with a permission for its IP
   * address; as ChannelData when a channel is bound to the peer's transport address, else in a
   * Data indication (XOR-PEER-ADDRESS, DATA).
   */
  fromPeer(a: Allocation, family: 4 | 6, data: Buffer, address: string, port: number): void {
    if (!a.permissions.has(address, this.now) || !a.mayRelayFromPeer(data.length, this.now)) {
      a.counters.dropped++;
      this.stats.relayDropped++;
      return;
    }
    a.counters.bytesFromPeer += data.length;
    a.counters.packetsFromPeer++;
    const t = a.fiveTuple;
    const binding = a.channels.forPeer(peerKey(address, port), this.now);
    if (binding !== undefined) {
      // RFC 8656 §12.4: channel number and length in front; over UDP no padding, over TCP and TLS
      // "the ChannelData message MUST be padded to a multiple of four bytes"
      const header = Buffer.allocUnsafe(4);
      header.writeUInt16BE(binding.number, 0);
      header.writeUInt16BE(data.length, 2);
      const pad = t.listener.stream === true ? (4 - (data.length & 3)) & 3 : 0;
      t.listener.send(pad === 0 ? [header, data] : [header, data, PADDING.subarray(0, pad)], t.clientPort, t.clientAddress);
      return;
    }
    // header, XOR-PEER-ADDRESS (IPv6: 24 bytes), DATA header and padded data: one buffer, no growth
    const indication = new StunMessageBuilder(StunMethod.Data, 'indication', randomBytesFromPool(12), 52 + data.length)
      .addXorAddress(StunAttr.XOR_PEER_ADDRESS, { family, address, port })
      .add(StunAttr.DATA, data)
      .build();
    t.listener.send(indication, t.clientPort, t.clientAddress);
  }
}
