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
