/** New events as they arrive (server-sent events from /api/events/stream), newest on top. */
import { useEffect, useState } from "preact/hooks";
import { SelectField } from "./fields.tsx";
import { fmtTime, prettyBody } from "../components/format.ts";

interface TailEvent {
  id: string;
  route_id: string | null;
  received_at: string;
  method: string;
  status: string;
  body: string;
  body_encoding: string;
  truncated: boolean;
}

const KEEP = 100;

export function LiveTail(
  { routes, initialRoute = "" }: {
    routes: Array<{ id: string; name: string }>;
    initialRoute?: string;
  },
) {
  const [route, setRoute] = useState(initialRoute);
  const [events, setEvents] = useState<TailEvent[]>([]);
  const [state, setState] = useState<"connecting" | "live" | "paused" | "lost">("connecting");
  const [paused, setPaused] = useState(false);
  const names = Object.fromEntries(routes.map((r) => [r.id, r.name]));

  useEffect(() => {
    if (paused) {
      setState("paused");
      return;
    }
    setState("connecting");
    const url = `/api/events/stream${route ? `?route_id=${encodeURIComponent(route)}` : ""}`;
    const es = new EventSource(url);
    es.addEventListener("ready", () => setState("live"));
    es.addEventListener("event", (m) => {
      const e = JSON.parse((m as MessageEvent).data) as TailEvent;
      setEvents((xs) => [e, ...xs.filter((x) => x.id !== e.id)].slice(0, KEEP));
    });
    es.addEventListener("end", () => (es.close(), setState("lost")));
    // EventSource reconnects by itself; say so while it does.
    es.onerror = () => setState(es.readyState === EventSource.CLOSED ? "lost" : "connecting");
    return () => es.close();
  }, [route, paused]);

  return (
    <section class="stack">
      <div class="filters">
        <SelectField
          id="tail-route"
          label="Route"
          value={route}
          options={[["", "All routes"], ...routes.map((r): [string, string] => [r.id, r.name])]}
          onChange={(v) => (setEvents([]), setRoute(v))}
        />
        <div class="row">
          <button type="button" class="secondary" onClick={() => setPaused(!paused)}>
            {paused ? "Resume" : "Pause"}
          </button>
          <button type="button" class="secondary" onClick={() => setEvents([])}>Clear</button>
          <span
            class={`badge ${state === "live" ? "ok" : state === "lost" ? "bad" : "warn"}`}
            role="status"
          >
            {state === "live"
              ? "Live"
              : state === "paused"
              ? "Paused"
              : state === "lost"
              ? "Disconnected"
              : "Connecting"}
          </span>
        </div>
      </div>
      <div class="card">
        {events.length === 0 ? <p class="muted">Waiting for new events…</p> : null}
        <ol class="tail" aria-label="New events" aria-live="polite">
          {events.map((e) => (
            <li key={e.id}>
              <div class="spread">
                <span>
                  <a href={`/ui/events/${e.id}`} class="mono">{e.id}</a>{" "}
                  <span class="muted small">
                    {e.method} on {e.route_id ? names[e.route_id] ?? e.route_id : "no route"}
                  </span>
                </span>
                <span class="small muted">{fmtTime(e.received_at)}</span>
              </div>
              <pre>{prettyBody(e.body, e.body_encoding)}{e.truncated ? "\n…" : ""}</pre>
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
