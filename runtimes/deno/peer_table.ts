/**
 * Which client each of the front's upstream connections carries, by the upstream connection's
 * local port: written by the front (possibly on its own thread), read by the server for every
 * request. Backed by a SharedArrayBuffer, one slot per port, so a read is a few array loads and
 * needs no message between threads. The front writes a slot before it sends the first byte on
 * that connection, so the server, which reads only after bytes arrived, sees it.
 */
const SLOT = 48; // 1 length byte + an address as text (IPv6 with zone fits)
const PORTS = 65536;

export interface PeerTable {
  readonly buffer: SharedArrayBuffer;
  set(port: number, address: string): void;
  delete(port: number): void;
  /** The client address, or undefined when no front connection uses this port. */
  get(port: number): string | undefined;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function peerTable(buffer = new SharedArrayBuffer(SLOT * PORTS)): PeerTable {
  const bytes = new Uint8Array(buffer);
  return {
    buffer,
    set(port, address) {
      const text = enc.encode(address).subarray(0, SLOT - 1);
      const at = port * SLOT;
      bytes.set(text, at + 1);
      Atomics.store(bytes, at, text.length);
    },
    delete(port) {
      Atomics.store(bytes, port * SLOT, 0);
    },
    get(port) {
      const at = port * SLOT;
      const n = Atomics.load(bytes, at);
      return n ? dec.decode(bytes.slice(at + 1, at + 1 + n)) : undefined;
    },
  };
}
