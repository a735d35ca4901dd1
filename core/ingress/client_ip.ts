/**
 * The caller's address. Runtimes put the socket address in `env.remoteAddr`; a trusted proxy
 * header is used only when the runtime says so (`env.trustProxy`), never by default, because
 * a client can write any X-Forwarded-For it likes.
 */
export function clientIp(req: Request, env: unknown): string {
  const e = (env ?? {}) as { remoteAddr?: string; trustProxy?: boolean };
  if (e.trustProxy) {
    const xff = req.headers.get("x-forwarded-for");
    if (xff) return xff.split(",")[0].trim();
  }
  return e.remoteAddr ?? "unknown";
}

/** The socket's address, whatever a proxy header says ("unknown" when the runtime has none). */
export function socketAddress(env: unknown): string {
  return ((env ?? {}) as { remoteAddr?: string }).remoteAddr ?? "unknown";
}

/** Whether `ip` is a loopback address (127.0.0.0/8, ::1, IPv4-mapped 127.x). */
export function isLoopback(ip: string): boolean {
  const a = ip.replace(/^\[|\]$/g, "").toLowerCase();
  return a === "::1" || /^127\.\d+\.\d+\.\d+$/.test(a) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(a);
}
