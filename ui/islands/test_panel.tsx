/** The route's dry run on a pasted sample: rules, each stage's output, the deliveries. */
import { useState } from "preact/hooks";
import { api, parseJsonField } from "./api.ts";
import { FormAlert, JsonField } from "./fields.tsx";

interface Stage {
  name: string;
  type: string;
  scope: string;
  ms: number;
  output?: unknown;
  error?: string;
  dropped?: string;
  note?: string;
}

interface DryRun {
  outcome: string;
  matched?: boolean;
  reason?: string;
  failed?: { stage: string; error: string };
  rules?: Array<{ name?: string; matched: boolean }>;
  stages?: Stage[];
  deliveries: Array<{ destination_id: string; body: string; headers: Record<string, string> }>;
}

const show = (v: unknown) => typeof v === "string" ? v : JSON.stringify(v, null, 2);

export function TestPanel(
  { routeId, names }: { routeId: string; names: Record<string, string> },
) {
  const [body, setBody] = useState('{\n  "hello": "world"\n}');
  const [headers, setHeaders] = useState("");
  const [busy, setBusy] = useState(false);
  const [alert, setAlert] = useState<string | undefined>();
  const [result, setResult] = useState<DryRun | null>(null);

  const run = async (e: Event) => {
    e.preventDefault();
    const h = parseJsonField(headers, "object");
    if (h.error) return;
    // A sample that is not JSON is sent as text, as a sender would.
    const parsed = parseJsonField(body, "any");
    setBusy(true);
    const res = await api<DryRun>("POST", `/api/routes/${routeId}/test`, {
      body: parsed.error ? body : parsed.value ?? "",
      ...(h.value ? { headers: h.value } : {}),
    });
    setBusy(false);
    setAlert(res.ok ? undefined : res.message ?? Object.values(res.fields ?? {}).join("; "));
    setResult(res.ok ? res.data! : null);
  };

  return (
    <section class="card" aria-labelledby="test-h">
      <h2 id="test-h">Test</h2>
      <p class="muted small">Runs the route on a sample without delivering anything.</p>
      <form class="stack" onSubmit={run} aria-label="Test the route">
        <JsonField
          id="test-body"
          label="Sample body"
          kind="any"
          value={body}
          onInput={setBody}
          rows={6}
          hint="JSON, or any text (sent as it is)."
          error={undefined}
        />
        <JsonField
          id="test-headers"
          label="Sample headers"
          kind="object"
          value={headers}
          onInput={setHeaders}
          rows={2}
          placeholder='{"x-github-event": "push"}'
        />
        <FormAlert message={alert} />
        <div class="row">
          <button type="submit" disabled={busy}>Run test</button>
        </div>
      </form>
      {result ? <Result r={result} names={names} /> : null}
    </section>
  );
}

function Result({ r, names }: { r: DryRun; names: Record<string, string> }) {
  return (
    <div role="region" aria-label="Test result" class="stack">
      <h3>
        Outcome: <span class={`badge ${r.outcome === "deliver" ? "ok" : "warn"}`}>{r.outcome}</span>
      </h3>
      {r.reason ? <p>{r.reason}</p> : null}
      {r.failed ? <p class="alert">Stage {r.failed.stage} failed: {r.failed.error}</p> : null}
      {r.rules?.length
        ? (
          <>
            <h3>Rules</h3>
            <ul>
              {r.rules.map((x, i) => (
                <li key={i}>
                  {x.name ?? `rule ${i + 1}`}: {x.matched ? "matched" : "did not match"}
                </li>
              ))}
            </ul>
          </>
        )
        : null}
      <h3>Stages</h3>
      {r.stages?.length
        ? (
          <ol class="stages">
            {r.stages.map((s, i) => (
              <li key={i} class={s.error ? "failed" : ""}>
                <strong>{s.name}</strong>{" "}
                <span class="muted small">{s.type} · {s.scope} · {s.ms} ms</span>
                {s.error ? <p class="error">{s.error}</p> : null}
                {s.dropped ? <p>dropped: {s.dropped}</p> : null}
                {s.note ? <p class="small">{s.note}</p> : null}
                {s.output !== undefined ? <pre>{show(s.output)}</pre> : null}
              </li>
            ))}
          </ol>
        )
        : <p class="muted small">No pipeline stages: the body goes out as it came.</p>}
      <h3>Deliveries</h3>
      {r.deliveries.length
        ? r.deliveries.map((d, i) => (
          <div key={i}>
            <p>To {names[d.destination_id] ?? d.destination_id}</p>
            <pre>{show(tryJson(d.body))}</pre>
          </div>
        ))
        : <p class="muted small">Nothing would be delivered.</p>}
    </div>
  );
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
