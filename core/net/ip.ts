/**
 * IP address parsing and CIDR matching on plain bytes: no runtime APIs, so it runs anywhere.
 * An address is 4 bytes (IPv4) or 16 bytes (IPv6). IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is
 * unwrapped to IPv4 wherever addresses are compared, so one rule covers both spellings.
 */

/** A parsed address: 4 bytes for IPv4, 16 for IPv6. */
export type IpBytes = Uint8Array;

/** A parsed CIDR block. */
export interface Cidr {
  bytes: IpBytes;
  prefix: number;
}

/** Parses dotted-quad IPv4 (exactly four decimal parts, no leading zeros), else null. */
export function parseIPv4(text: string): IpBytes | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Parses IPv6 (with `::`, an embedded IPv4 tail, an optional `%zone`), else null. */
export function parseIPv6(text: string): IpBytes | null {
  let s = text;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length === 0 || s.length > 45) return null;
  let tail: IpBytes | null = null;
  const lastColon = s.lastIndexOf(":");
  if (s.indexOf(".") > lastColon && lastColon >= 0) {
    tail = parseIPv4(s.slice(lastColon + 1));
    if (!tail) return null;
    s = s.slice(0, lastColon + 1) + "0:0"; // placeholder groups, overwritten below
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === "") return [];
    const out: number[] = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !rest) return null;
  const total = head.length + rest.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return null;
  const all = [...head, ...new Array(8 - total).fill(0), ...rest];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

/**
 * Parses the legacy IPv4 forms that inet_aton (and so getaddrinfo, node:net, curl) accept but
 * dotted-quad parsing refuses: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x), the
 * last part filling the remaining bytes: `2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`.
 * Returns null for anything else. The WHATWG URL parser applies the same rules to http(s)
 * hosts; other schemes (amqp, redis, kafka's host:port) pass the text on as is, and the
 * resolver then reads it this way, so the guard must too.
 */
export function parseInetAton(text: string): IpBytes | null {
  const t = text.endsWith(".") ? text.slice(0, -1) : text;
  const parts = t.split(".");
  if (parts.length < 1 || parts.length > 4) return null;
  const values: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = p.length === 1 ? 0 : parseInt(p.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(p)) n = Number(p);
    else return null;
    if (!Number.isSafeInteger(n)) return null;
    values.push(n);
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255)) return null;
  if (last >= 2 ** (8 * (4 - values.length))) return null;
  const out = new Uint8Array(4);
  values.forEach((v, i) => (out[i] = v));
  for (let i = 3, rest = last; i >= values.length; i--, rest = Math.floor(rest / 256)) {
    out[i] = rest % 256;
  }
  return out;
}

/** Parses an IPv4 or IPv6 literal (IPv6 may be in brackets), else null. */
export function parseIp(text: string): IpBytes | null {
  const t = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  return t.includes(":") ? parseIPv6(t) : parseIPv4(t);
}

/** Whether `text` is an IPv4 or IPv6 literal. */
export function isIp(text: string): boolean {
  return parseIp(text) !== null;
}

/** The IPv4 inside an IPv4-mapped IPv6 address (`::ffff:0:0/96`), else the input unchanged. */
export function unmapIPv4(ip: IpBytes): IpBytes {
  if (ip.length !== 16) return ip;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return ip;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return ip;
  return ip.slice(12);
}

/** Canonical text of an address: dotted quad, or RFC 5952 compressed IPv6. */
export function formatIp(ip: IpBytes): string {
  if (ip.length === 4) return ip.join(".");
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((ip[i] << 8) | ip[i + 1]);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** Parses `addr/prefix` (or a bare address, meaning one host); throws naming the value. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const parsed = parseIp(addr.trim());
  if (!parsed) throw new Error(`invalid CIDR "${text}": bad address`);
  const max = parsed.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1).trim();
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > max) {
      throw new Error(`invalid CIDR "${text}": prefix must be 0-${max}`);
    }
    prefix = Number(p);
  }
  // An IPv4-mapped block such as ::ffff:10.0.0.0/104 is the IPv4 block 10.0.0.0/8.
  if (parsed.length === 16 && prefix >= 96 && unmapIPv4(parsed).length === 4) {
    return { bytes: parsed.slice(12), prefix: prefix - 96 };
  }
  return { bytes: parsed, prefix };
}

/** Whether parsed `ip` lies in `block`; IPv4-mapped IPv6 addresses match IPv4 blocks. */
export function inCidr(block: Cidr, ip: IpBytes): boolean {
  const a = unmapIPv4(ip);
  if (a.length !== block.bytes.length) return false;
  const full = block.prefix >> 3;
  for (let i = 0; i < full; i++) if (a[i] !== block.bytes[i]) return false;
  const bits = block.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (a[full] & mask) === (block.bytes[full] & mask);
}

/** Whether `ip` (text) lies in `cidr` (text). Throws on a malformed CIDR; false on a bad ip. */
export function cidrContains(cidr: string, ip: string): boolean {
  const block = parseCidr(cidr);
  const parsed = parseIp(ip);
  return parsed !== null && inCidr(block, parsed);
}
