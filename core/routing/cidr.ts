/**
 * CIDR matching for IPv4 and IPv6 without any runtime API. IPv4-mapped IPv6 addresses
 * (`::ffff:10.1.2.3`) match IPv4 blocks, because dual-stack servers report them that way.
 */

export interface Cidr {
  readonly source: string;
  contains(ip: string): boolean;
}

/** 16 bytes for IPv6, 4 for IPv4; null when the text is not an address. */
export function parseIp(text: string): Uint8Array | null {
  const s = text.trim().replace(/^\[|\]$/g, "").replace(/%.*$/, ""); // brackets, zone id
  return s.includes(":") ? parseV6(s) : parseV4(s);
}

function parseV4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseV6(s: string): Uint8Array | null {
  let tail4: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    tail4 = parseV4(s.slice(lastColon + 1));
    if (!tail4) return null;
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 2 ? (halves[1] === "" ? [] : halves[1].split(":")) : [];
  const groups = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && groups < 1) return null;
  const all = [...head, ...Array(groups).fill("0"), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(all[i])) return null;
    const n = parseInt(all[i], 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

/** The IPv4 part of `::ffff:a.b.c.d`, else the address unchanged. */
function unmap(addr: Uint8Array): Uint8Array {
  if (addr.length !== 16) return addr;
  for (let i = 0; i < 10; i++) if (addr[i] !== 0) return addr;
  if (addr[10] !== 0xff || addr[11] !== 0xff) return addr;
  return addr.slice(12);
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32 or /128 block). */
export function parseCidr(text: string): Cidr {
  const [addrText, bitsText, extra] = text.split("/");
  const parsed = extra === undefined ? parseIp(addrText) : null;
  if (!parsed) throw new Error(`invalid CIDR "${text}"`);
  const net = unmap(parsed);
  const max = net.length * 8;
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
  if (bits < 0 || bits > max) throw new Error(`invalid prefix length in CIDR "${text}"`);
  return {
    source: text,
    contains(ip: string): boolean {
      const raw = parseIp(ip);
      if (!raw) return false;
      const addr = unmap(raw);
      if (addr.length !== net.length) return false;
      let left = bits;
      for (let i = 0; left > 0; i++, left -= 8) {
        const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
        if ((addr[i] & mask) !== (net[i] & mask)) return false;
      }
      return true;
    },
  };
}
