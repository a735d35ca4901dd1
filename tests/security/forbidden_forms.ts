/**
 * Every spelling of a forbidden address the guard must recognise, shared by the address-guard
 * tests: each host is refused whether it is written in a URL, as `host:port`, or dialled.
 */
export interface ForbiddenForm {
  /** How the host is written (URL host part; IPv6 in brackets). */
  host: string;
  /** What it is, for test names. */
  what: string;
  /** The reason the guard gives must match this. */
  reason: RegExp;
}

export const FORBIDDEN_FORMS: readonly ForbiddenForm[] = [
  { host: "127.0.0.1", what: "loopback", reason: /loopback/ },
  { host: "127.1", what: "loopback, short form", reason: /127\.0\.0\.1 is loopback/ },
  { host: "2130706433", what: "loopback, decimal", reason: /127\.0\.0\.1 is loopback/ },
  { host: "0177.0.0.1", what: "loopback, octal", reason: /127\.0\.0\.1 is loopback/ },
  { host: "0x7f.0.0.1", what: "loopback, hex", reason: /127\.0\.0\.1 is loopback/ },
  { host: "0x7f000001", what: "loopback, one hex number", reason: /127\.0\.0\.1 is loopback/ },
  { host: "localhost", what: "localhost", reason: /localhost|loopback/ },
  { host: "api.localhost", what: "a .localhost name", reason: /localhost|loopback/ },
  { host: "LOCALHOST.", what: "localhost, upper case, trailing dot", reason: /loopback/ },
  { host: "[::1]", what: "IPv6 loopback", reason: /::1 is loopback/ },
  { host: "[::ffff:127.0.0.1]", what: "IPv4-mapped IPv6 loopback", reason: /loopback/ },
  { host: "[::ffff:7f00:1]", what: "IPv4-mapped IPv6 loopback, hex", reason: /loopback/ },
  { host: "10.1.2.3", what: "private 10/8", reason: /private/ },
  { host: "172.16.0.9", what: "private 172.16/12", reason: /private/ },
  { host: "192.168.1.1", what: "private 192.168/16", reason: /private/ },
  { host: "0xc0a80101", what: "private, hex", reason: /192\.168\.1\.1 is private/ },
  { host: "169.254.169.254", what: "cloud metadata", reason: /metadata/ },
  { host: "169.254.10.10", what: "link-local", reason: /link-local/ },
  { host: "100.64.0.1", what: "carrier-grade NAT", reason: /carrier-grade NAT/ },
  { host: "[fd00::1]", what: "unique local IPv6", reason: /unique local/ },
  { host: "[fe80::1]", what: "link-local IPv6", reason: /link-local/ },
  { host: "[fd00:ec2::254]", what: "IPv6 cloud metadata", reason: /metadata/ },
  { host: "[::ffff:10.0.0.1]", what: "IPv4-mapped IPv6 private", reason: /private/ },
  { host: "[64:ff9b::a00:1]", what: "NAT64 of a private address", reason: /NAT64.*private/ },
  { host: "0.0.0.0", what: "unspecified", reason: /unspecified/ },
];

/** The host as the resolver/dialler gets it: without IPv6 brackets. */
export const bare = (host: string) => host.replace(/^\[|\]$/g, "");
