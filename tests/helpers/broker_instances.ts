/**
 * Servers the broker integration tests stop, start or fake: a private instance of a real
 * broker (its own name and ports, so stopping it cannot disturb other tests), a server that
 * accepts connections and never answers, and a port nobody listens on.
 */

/** What `privateInstance` can do to its instance. */
export type InstanceAction = "start" | "stop";

/**
 * Starts or stops the private instance `env` (PEER_INSTANCE plus its port) of
 * tests/peers/servers/<script>; a failed action throws with the script's stderr.
 */
export function privateInstance(
  script: "kafka.sh" | "rabbitmq.sh" | "redis.sh" | "postgres.sh" | "moto.sh" | "pstest.sh",
  env: Record<string, string>,
): (action: InstanceAction) => Promise<void> {
  const path = new URL(`../peers/servers/${script}`, import.meta.url).pathname;
  return async (action) => {
    const out = await new Deno.Command("bash", { args: [path, action], env }).output();
    if (!out.success) {
      throw new Error(`${script} ${action} failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
  };
}

/** A TCP server that accepts connections and never answers (a hung broker). */
export function silentServer(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const c of listener) conns.push(c);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    },
  };
}

/** A local port that was free a moment ago: connecting to it is refused. */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
