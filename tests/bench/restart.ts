/**
 * Restart after a crash with a backlog behind a dead destination: a node takes webhooks for
 * `--seconds` (wrk, 64 connections, 1 KiB bodies) for a route whose only destination is a
 * closed port (so its circuit opens and every delivery stays pending), is SIGKILLed, and is
 * started again on the same database. Prints the backlog, the time until /health answers (the
 * ingest journal's leftovers are imported before the node listens), and what one delivery
 * claim costs on that database with and without the dead destination left out:
 *   deno run -A tests/bench/restart.ts [--seconds=20] [--timeout=600] [--json=restart.json]
 * A node that does not answer within `--timeout` seconds is reported as such (and killed).
 */
import { openStore } from "../../adapters/store/sqlite/store.ts";
import { closedPort } from "../helpers/broker_instances.ts";
import { apiClient, bootstrapAdmin, startRouter } from "../helpers/router_process.ts";

const arg = (name: string) => Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const seconds = Number(arg("seconds") ?? 20);
const timeoutMs = Number(arg("timeout") ?? 600) * 1000;
const BODY = `{"pad":"${"x".repeat(1014)}"}`;

const dir = await Deno.makeTempDir({ prefix: "er-bench-restart-" });
try {
  const first = await startRouter({ dir, env: { LOG_LEVEL: "error" } });
  const api = apiClient(first.url, await bootstrapAdmin(first.url));
  const dest = await api<{ id: string }>("POST", "/api/destinations", {
    name: "dead",
    type: "http",
    config: { url: `http://127.0.0.1:${closedPort()}/in` },
  });
  const { endpoint } = await api<{ endpoint: string }>("POST", "/api/routes", {
    name: "restart",
    destinations: [{ destination_id: dest.id }],
  });
  const script = `${dir}/post.lua`;
  await Deno.writeTextFile(
    script,
    `wrk.method = "POST"\nwrk.body = '${BODY}'\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  const wrk = await new Deno.Command("wrk", {
    args: ["-t2", "-c64", `-d${seconds}s`, "-s", script, `${first.url}${endpoint}`],
  }).output();
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(new TextDecoder().decode(wrk.stdout))?.[1];
  await first.kill("SIGKILL");
  const dbBytes = (await Deno.stat(`${dir}/event-router.db`)).size;

  const started = Date.now();
  const second = await startRouter({ dir, env: { LOG_LEVEL: "info" }, timeoutMs }).catch(() => {
    console.log(`restart after SIGKILL: no answer on /health within ${timeoutMs / 1000} s`);
    return null;
  });
  if (!second) throw new Error("the node did not come back in time");
  const upMs = Date.now() - started;
  const imported = Number(/"events":(\d+)/.exec(second.logs())?.[1] ?? 0);
  await second.kill("SIGTERM");

  // One claim's cost on this database, in-process: with the dead destination left out nothing
  // else is due (the search alone); with another one left out it leases 100 of its deliveries.
  const store = openStore({ path: `${dir}/event-router.db` });
  const depth = await store.queueDepth(Date.now());
  const claim = async (exclude?: string[]) => {
    const t = performance.now();
    for (let i = 0; i < 20; i++) await store.claimDue(Date.now(), 100, "bench", 1, exclude);
    return (performance.now() - t) / 20;
  };
  const excluded = await claim([dest.id]);
  const plain = await claim(["dest_none"]);
  await store.close();

  const result = {
    ingest_rps: Number(rps),
    database_mb: Math.round(dbBytes / 1e6),
    queue_depth: depth,
    restart_ms: upMs,
    journal_events_imported: imported,
    claim_ms_dead_destination_excluded: Number(excluded.toFixed(2)),
    claim_ms_other_exclusion: Number(plain.toFixed(2)),
  };
  console.log(
    `backlog after ${seconds} s at ${rps} req/s: ${JSON.stringify(depth)}, database ` +
      `${result.database_mb} MB\nrestart after SIGKILL: ${upMs} ms to /health (imported ` +
      `${imported} events from the journal first)\none claim: ${result.claim_ms_dead_destination_excluded} ms with ` +
      `the dead destination left out (its circuit open), ${result.claim_ms_other_exclusion} ms otherwise`,
  );
  const json = arg("json");
  if (json) await Deno.writeTextFile(json, JSON.stringify(result, null, 2));
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
