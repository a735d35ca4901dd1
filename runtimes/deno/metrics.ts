/**
 * The Metrics port on prom-client: counters and histograms created on first use, plus gauges
 * read at scrape time. prom-client's process collectors read `/proc/self`, which Deno refuses
 * without `--allow-all`, so they reported 0: memory comes from `Deno.memoryUsage()` and open
 * descriptors from `open_fds.ts` instead. The store's backlog (pending and due deliveries,
 * how long the oldest has waited, unprocessed events) is read at scrape time too.
 */
import client from "prom-client";
import type { Metrics } from "../../core/ports.ts";
import type { QueueDepth } from "../../core/store.ts";
import { maxFds, openFds } from "./open_fds.ts";

const PREFIX = "event_router_";

/** prom-client's collectors that read /proc/self and so report 0 on Deno. */
const REPLACED = [
  "process_resident_memory_bytes",
  "process_virtual_memory_bytes",
  "process_heap_bytes",
  "process_open_fds",
  "process_max_fds",
];

/** Latencies that span retries: milliseconds to a day. */
const LATENCY_BUCKETS = [
  0.005,
  0.025,
  0.1,
  0.5,
  1,
  5,
  30,
  60,
  300,
  1800,
  3600,
  6 * 3600,
  86400,
];

export function createMetrics(
  opts: { queueDepth?: (now: number) => Promise<QueueDepth> } = {},
): Metrics & { registry: client.Registry } {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: PREFIX });
  for (const name of REPLACED) registry.removeSingleMetric(PREFIX + name);
  // What cannot be known here is left out (or NaN when it stops being known): a 0 would claim
  // something false.
  const gauge = (name: string, help: string, read: () => number | null) => {
    if (read() === null) return;
    new client.Gauge({
      name: PREFIX + name,
      help,
      registers: [registry],
      collect() {
        this.set(read() ?? NaN);
      },
    });
  };
  gauge(
    "process_resident_memory_bytes",
    "Resident memory size in bytes",
    () => Deno.memoryUsage().rss,
  );
  gauge(
    "process_heap_bytes",
    "JavaScript heap size in bytes (V8 heapTotal)",
    () => Deno.memoryUsage().heapTotal,
  );
  gauge("process_open_fds", "Number of open file descriptors", openFds);
  gauge("process_max_fds", "Maximum number of open file descriptors", maxFds);

  if (opts.queueDepth) {
    const read = opts.queueDepth;
    let last: { at: number; value: Promise<QueueDepth | null> } | null = null;
    // One store read per scrape, shared by the gauges below.
    const depth = () => {
      const now = Date.now();
      if (!last || now - last.at > 500) {
        last = { at: now, value: read(now).catch(() => null) };
      }
      return last.value;
    };
    const fromDepth = (name: string, help: string, pick: (d: QueueDepth, now: number) => number) =>
      new client.Gauge({
        name: PREFIX + name,
        help,
        registers: [registry],
        async collect() {
          const d = await depth();
          this.set(d ? pick(d, Date.now()) : NaN);
        },
      });
    fromDepth(
      "deliveries_pending",
      "Deliveries waiting to be delivered (queue depth), due now or later",
      (d) => d.pendingDeliveries,
    );
    fromDepth(
      "deliveries_due",
      "Deliveries due now, waiting for a dispatcher",
      (d) => d.dueDeliveries,
    );
    fromDepth(
      "delivery_lag_seconds",
      "How long the longest-waiting due delivery has been due (0: none waiting)",
      (d, now) => d.oldestDueAt === null ? 0 : Math.max(0, now - d.oldestDueAt) / 1000,
    );
    fromDepth(
      "events_unprocessed",
      "Events accepted and not yet through rules and pipeline",
      (d) => d.unprocessedEvents,
    );
    fromDepth(
      "processing_lag_seconds",
      "Age of the oldest event not yet through rules and pipeline (0: none)",
      (d, now) =>
        d.oldestUnprocessedAt === null ? 0 : Math.max(0, now - d.oldestUnprocessedAt) / 1000,
    );
  }

  const counters = new Map<string, client.Counter>();
  const histograms = new Map<string, client.Histogram>();
  const labelNames = (l?: Record<string, string>) => Object.keys(l ?? {}).sort();
  return {
    registry,
    inc(name, labels, value = 1) {
      let c = counters.get(name);
      if (!c) {
        c = new client.Counter({
          name: PREFIX + name,
          help: name.replaceAll("_", " "),
          labelNames: labelNames(labels),
          registers: [registry],
        });
        counters.set(name, c);
      }
      if (labels && Object.keys(labels).length) c.inc(labels, value);
      else c.inc(value);
    },
    observe(name, value, labels) {
      let h = histograms.get(name);
      if (!h) {
        h = new client.Histogram({
          name: PREFIX + name,
          help: name.replaceAll("_", " "),
          labelNames: labelNames(labels),
          registers: [registry],
          ...(name.endsWith("_latency_seconds") ? { buckets: LATENCY_BUCKETS } : {}),
        });
        histograms.set(name, h);
      }
      if (labels && Object.keys(labels).length) h.observe(labels, value);
      else h.observe(value);
    },
    render: () => registry.metrics(),
  };
}
