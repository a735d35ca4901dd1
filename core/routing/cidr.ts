/**
 * CIDR matching for IPv4 and IPv6 without any runtime API. Both are compared as 16 bytes, IPv4
 * in its IPv4-mapped form, so `::ffff:10.1.2.3` (what dual-stack servers report) matches
 * `10.0.0.0/8`, and `::ffff:0:0/96` matches every IPv4 address.
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

/** IPv4 as its IPv4-mapped IPv6 form, so one comparison serves both families. */
function to16(addr: Uint8Array): Uint8Array {
  if (addr.length === 16) return addr;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(addr, 12);
  return out;
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32 or /128 block). */
export function parseCidr(text: string): Cidr {
  const [addrText, bitsText, extra] = text.split("/");
  const parsed = extra === undefined ? parseIp(addrText) : null;
  if (!parsed) throw new Error(`invalid CIDR "${text}"`);
  const max = parsed.length * 8;
  const given = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
  if (given < 0 || given > max) throw new Error(`invalid prefix length in CIDR "${text}"`);
  const net = to16(parsed);
  const bits = parsed.length === 4 ? given + 96 : given;
  return {
    source: text,
    contains(ip: string): boolean {
      const raw = parseIp(ip);
      if (!raw) return false;
      const addr = to16(raw);
      let left = bits;
      for (let i = 0; left > 0; i++, left -= 8) {
        const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
        if ((addr[i] & mask) !== (net[i] & mask)) return false;
      }
      return true;
    },
  };
}
