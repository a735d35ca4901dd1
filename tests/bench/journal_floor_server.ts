/**
 * The durable floor: a bare Deno.serve that reads the body, appends it to the router's own
 * journal (adapters/journal/file_journal.ts: one write + fdatasync per record, four lanes)
 * through the router's group commit (core/ingress/group_commit.ts, with the journal's
 * settings), and answers 202 only after the fdatasync. Nothing else: no routing, envelope,
 * store import or dispatch. Any ingest that acknowledges after a durable write pays at least
 * this on this machine, so the router's ingest is reported against it as well as against bare.
 *
 *   deno run -A tests/bench/journal_floor_server.ts <port> <dir>
 */
import { openFileJournal } from "../../adapters/journal/file_journal.ts";
import { createGroupCommitter } from "../../core/ingress/group_commit.ts";
import type { Envelope } from "../../core/ports.ts";

const port = Number(Deno.args[0] ?? 18501);
const dir = Deno.args[1] ?? await Deno.makeTempDir({ prefix: "journal-floor-" });
const journal = await openFileJournal({ dir });
const none = new Map<string, string>();

// The committer batches whatever it is given; here each "event" is a request's body alone.
const committer = createGroupCommitter(async (bodies) => {
  const parts = bodies as unknown as Uint8Array[];
  let size = 0;
  for (const p of parts) size += p.length;
  const record = new Uint8Array(size);
  let at = 0;
  for (const p of parts) record.set(p, (at += p.length) - p.length);
  // Released at once: the floor keeps no backlog, so its segments stay small as the router's do.
  journal.release(await journal.append(record));
  return { duplicates: none };
}, { concurrency: 4, staggerMs: 2 });

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: () => {},
  onError: () => new Response(null, { status: 500 }),
}, async (req) => {
  let body: Uint8Array;
  try {
    body = new Uint8Array(await req.arrayBuffer());
  } catch {
    return new Response(null, { status: 400 }); // wrk cut the request when its run ended
  }
  await committer.accept([body as unknown as Envelope]);
  return new Response('{"id":"evt_x"}', {
    status: 202,
    headers: { "content-type": "application/json" },
  });
});
