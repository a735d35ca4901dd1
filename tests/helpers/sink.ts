/**
 * A real HTTP sink on loopback that records what the router delivers: per webhook-id (the
 * delivery id) and per x-event-id, so tests can count arrivals and duplicates. Its answer can
 * be changed while it runs (`respond`), and it can go down and come back (`stop`, `start`).
 */
export interface Sink {
  url: string;
  port: number;
  /** event id -> number of deliveries received */
  events: Map<string, number>;
  deliveries: Map<string, number>;
  total(): number;
  respond: (req: Request) => number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startSink(port = 0): Promise<Sink> {
  let server: Deno.HttpServer | null = null;
  const sink: Sink = {
    url: "",
    port,
    events: new Map(),
    deliveries: new Map(),
    total: () => [...sink.events.values()].reduce((a, b) => a + b, 0),
    respond: () => 200,
    async stop() {
      await server?.shutdown();
      server = null;
    },
    async start() {
      let ready!: () => void;
      const listening = new Promise<void>((r) => (ready = r));
      server = Deno.serve({
        hostname: "127.0.0.1",
        port: sink.port,
        onListen: ({ port }) => {
          sink.port = port;
          sink.url = `http://127.0.0.1:${port}`;
          ready();
        },
      }, async (req) => {
        await req.arrayBuffer();
        const status = sink.respond(req);
        if (status >= 200 && status < 300) {
          const ev = req.headers.get("x-event-id") ?? "";
          const id = req.headers.get("webhook-id") ?? "";
          sink.events.set(ev, (sink.events.get(ev) ?? 0) + 1);
          sink.deliveries.set(id, (sink.deliveries.get(id) ?? 0) + 1);
        }
        return new Response(null, { status });
      });
      await listening;
    },
  };
  await sink.start();
  return sink;
}
