/**
 * The durable floor: a bare Deno.serve that reads the body, appends it to the router's own
 * journal (adapters/journal/file_journal.ts: one write + fdatasync per record, four lanes)
 * through the router's group commit (core/ingress/group_commit.ts, with the journal's
 * settings), and answers 202 only after the fdatasync. Nothing else: no routing, envelope,
 * store import or dispatch. Any ingest that acknowledges after a durable write pays at least
 * this on this machine, so the router's ingest is reported against it as well as against bare.
 * `onAccepted` (the broker bench's floor) hears of each body once it is durable; with
 * `--forward=<url>` (the HTTP-sink row's floor) each durable body is POSTed there over an undici
 * pool, 16 at a time, as the router's HTTP publisher sends: the least any durable webhook ->
 * HTTP path costs here.
 *
 *   deno run -A tests/bench/journal_floor_server.ts <port> <dir> [--forward=<url>]
 */
import { openFileJournal } from "../../adapters/journal/file_journal.ts";
import { createGroupCommitter } from "../../core/ingress/group_commit.ts";
import type { Envelope } from "../../core/ports.ts";
import { Pool } from "undici";

export interface JournalFloor {
  url: string;
  close(): Promise<void>;
}

export async function startJournalFloor(opts: {
  port: number;
  dir: string;
  onAccepted?(body: Uint8Array): void;
}): Promise<JournalFloor> {
  const journal = await openFileJournal({ dir: opts.dir });
  const none = new Map<string, string>();
  // The committer batches whatever it is given; here each "event" is a request's body alone.
  const committer = createGroupCommitter(async (bodies) => {
    const parts = bodies as unknown as Uint8Array[];
    let size = 0;
    for (const p of parts) size += p.length;
    const record = new Uint8Array(size);
    let at = 0;
    for (const p of parts) record.set(p, (at += p.length) - p.length);
    // Released at once: the floor keeps no backlog, so its segments stay small as the router's.
    journal.release(await journal.append(record));
    return { duplicates: none };
  }, { concurrency: 4, staggerMs: 2 });
  const onAccepted = opts.onAccepted;
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port,
    onListen: () => listening(),
    onError: () => new Response(null, { status: 500 }),
  }, async (req) => {
    let body: Uint8Array;
    try {
      body = new Uint8Array(await req.arrayBuffer());
    } catch {
      return new Response(null, { status: 400 }); // wrk cut the request when its run ended
    }
    await committer.accept([body as unknown as Envelope]);
    onAccepted?.(body);
    return new Response('{"id":"evt_x"}', {
      status: 202,
      headers: { "content-type": "application/json" },
    });
  });
  await ready;
  return {
    url: `http://127.0.0.1:${opts.port}/`,
    async close() {
      await server.shutdown();
      await journal.close();
    },
  };
}

/** POSTs each body it is given to `url`, `concurrency` requests at a time over one pool. */
function forwarder(url: string, concurrency = 16) {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: concurrency });
  const queue: Uint8Array[] = [];
  let running = 0;
  const work = async () => {
    running++;
    for (let body = queue.shift(); body; body = queue.shift()) {
      try {
        const r = await pool.request({
          method: "POST",
          path: target.pathname,
          headers: { "content-type": "application/json" },
          body,
        });
        await r.body.dump();
      } catch {
        // The sink went away for a moment: this body still has to arrive.
        queue.push(body);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    running--;
  };
  return (body: Uint8Array) => {
    queue.push(body);
    if (running < concurrency) void work();
  };
}

if (import.meta.main) {
  const forward = Deno.args.find((a) => a.startsWith("--forward="))?.slice(10);
  const positional = Deno.args.filter((a) => !a.startsWith("--"));
  await startJournalFloor({
    port: Number(positional[0] ?? 18501),
    dir: positional[1] ?? await Deno.makeTempDir({ prefix: "journal-floor-" }),
    onAccepted: forward ? forwarder(forward) : undefined,
  });
}
