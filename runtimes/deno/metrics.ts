/** The Metrics port on prom-client: counters and histograms created on first use. */
import client from "prom-client";
import type { Metrics } from "../../core/ports.ts";

export function createMetrics(): Metrics & { registry: client.Registry } {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "event_router_" });
  const counters = new Map<string, client.Counter>();
  const histograms = new Map<string, client.Histogram>();
  const labelNames = (l?: Record<string, string>) => Object.keys(l ?? {}).sort();
  return {
    registry,
    inc(name, labels, value = 1) {
      let c = counters.get(name);
      if (!c) {
        c = new client.Counter({
          name: `event_router_${name}`,
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
          name: `event_router_${name}`,
          help: name.replaceAll("_", " "),
          labelNames: labelNames(labels),
          registers: [registry],
        });
        histograms.set(name, h);
      }
      if (labels && Object.keys(labels).length) h.observe(labels, value);
      else h.observe(value);
    },
    render: () => registry.metrics(),
  };
}
