/** The dashboard's counts and chart, refreshed every 10 s from /api/stats and the series. */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.ts";
import { Chart, type SeriesPoint } from "./chart.tsx";

export interface Counts {
  retrying: number;
  pending: number;
  last_hour: { received: number; delivered: number; dead: number };
  last_24h: { received: number; delivered: number; dead: number };
}

export function DashboardLive(
  { stats, points, refreshMs = 10_000 }: {
    stats: Counts;
    points: SeriesPoint[];
    refreshMs?: number;
  },
) {
  const [s, setS] = useState(stats);
  const [p, setP] = useState(points);
  const [stale, setStale] = useState(false);
  useEffect(() => {
    const id = setInterval(async () => {
      const [a, b] = await Promise.all([
        api<Counts>("GET", "/api/stats"),
        api<{ points: SeriesPoint[] }>("GET", "/api/stats/timeseries"),
      ]);
      if (a.ok && a.data) setS(a.data);
      if (b.ok && b.data) setP(b.data.points);
      setStale(!a.ok || !b.ok);
    }, refreshMs);
    return () => clearInterval(id);
  }, [refreshMs]);
  const count = (label: string, hour: number | null, day: number | null, now?: number) => (
    <div class="count">
      <dt>{label}</dt>
      <dd>
        {now !== undefined ? now : hour}
        <small>{now !== undefined ? "now" : `last hour · ${day} in 24 h`}</small>
      </dd>
    </div>
  );
  return (
    <section aria-labelledby="counts-h">
      <h2 id="counts-h" class="visually-hidden">Counts</h2>
      <dl class="counts" aria-label="Counts">
        {count("Received", s.last_hour.received, s.last_24h.received)}
        {count("Delivered", s.last_hour.delivered, s.last_24h.delivered)}
        {count("Retrying", null, null, s.retrying)}
        {count("Dead", s.last_hour.dead, s.last_24h.dead)}
      </dl>
      <div class="card">
        <div class="spread">
          <h2>Events per minute, last hour</h2>
          {stale ? <span class="badge warn">not refreshing</span> : null}
        </div>
        <Chart points={p} caption="Events per minute over the last hour" />
      </div>
    </section>
  );
}
