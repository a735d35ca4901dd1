/**
 * Create or edit a route: name, method, destinations (checkboxes; an entry's own extras such
 * as a fallback or per-destination pipeline are kept), and the JSON parts (filters, rules,
 * pipeline, signature, response, limits) with their validation messages next to each.
 */
import { useState } from "preact/hooks";
import { parseJsonField, pretty } from "./api.ts";
import { CheckField, JsonField, SelectField, TextField } from "./fields.tsx";
import { SaveRow } from "./save_row.tsx";
import { FIX_FIELDS, useSave } from "./use_save.ts";

const METHODS = ["POST", "PUT", "PATCH", "GET", "DELETE", "ANY"];
const JSON_PARTS = [
  ["filters", "Filters", "object", '{"header.x-github-event": "push"}'],
  ["rules", "Rules", "array", '[{"name": "big", "condition": {...}, "destinations": [...]}]'],
  ["pipeline", "Pipeline", "array", '[{"type": "transform", "operations": [...]}]'],
  [
    "signature_config",
    "Signature",
    "object",
    '{"enabled": true, "preset": "github", "secret": "..."}',
  ],
  ["response", "Response", "object", '{"status": 200, "body": "{{body.challenge}}"}'],
  ["limits", "Limits", "object", '{"max_body_bytes": 65536, "rate_per_second": 50}'],
] as const;
type JsonKey = typeof JSON_PARTS[number][0];

const FIELDS = [
  "name",
  "description",
  "method",
  "destinations",
  "active",
  "queue",
  ...JSON_PARTS.map((p) => p[0]),
] as const;
/** Keys of the route body kept as they were when the form does not show them (`default`
 * is an admin's choice made over the API or in config as code). */
const KEPT = ["queue", "exchange", "routing_key", "default"] as const;

export interface DestinationChoice {
  id: string;
  name: string;
  type: string;
}

type Entry = { destination_id: string } & Record<string, unknown>;

export function RouteForm(
  { initial, destinations }: {
    initial?: Record<string, unknown> & { id?: string };
    destinations: DestinationChoice[];
  },
) {
  const [name, setName] = useState(String(initial?.name ?? ""));
  const [description, setDescription] = useState(String(initial?.description ?? ""));
  const [method, setMethod] = useState(String(initial?.method ?? "POST"));
  const [entries, setEntries] = useState<Entry[]>((initial?.destinations as Entry[]) ?? []);
  const [json, setJson] = useState<Record<JsonKey, string>>(
    Object.fromEntries(JSON_PARTS.map(([k]) => [k, pretty(initial?.[k])])) as Record<
      JsonKey,
      string
    >,
  );
  const [active, setActive] = useState(initial?.active !== false);
  const { busy, errors, alert, notice, setAlert, setNotice, saveRecord } = useSave(FIELDS);

  const toggle = (id: string, on: boolean) =>
    setEntries((xs) =>
      on
        ? [...xs.filter((x) => x.destination_id !== id), { destination_id: id }]
        : xs.filter((x) => x.destination_id !== id)
    );

  const submit = async (e: Event) => {
    e.preventDefault();
    setNotice(undefined);
    const body: Record<string, unknown> = { name, method, destinations: entries, active };
    if (description) body.description = description;
    for (const k of KEPT) if (initial?.[k] !== undefined) body[k] = initial[k];
    let bad = false;
    for (const [k, , kind] of JSON_PARTS) {
      const r = parseJsonField(json[k], kind);
      if (r.error) bad = true;
      else if (r.value !== undefined) body[k] = r.value;
    }
    if (bad) {
      setAlert(FIX_FIELDS);
      return;
    }
    const saved = await saveRecord("routes", initial?.id, body);
    if (saved) {
      if (saved.signature_config) {
        setJson((j) => ({ ...j, signature_config: pretty(saved.signature_config) }));
      }
      setNotice(`Saved (version ${saved.version})`);
    }
  };

  const chosen = new Set(entries.map((x) => x.destination_id));
  return (
    <form class="stack" onSubmit={submit} aria-label={initial?.id ? "Edit route" : "New route"}>
      <TextField
        id="route-name"
        label="Name"
        value={name}
        onInput={setName}
        required
        error={errors.name}
      />
      <TextField
        id="route-description"
        label="Description"
        value={description}
        onInput={setDescription}
        error={errors.description}
      />
      <SelectField
        id="route-method"
        label="Method"
        value={method}
        options={METHODS.map((m) => [m, m])}
        onChange={setMethod}
        error={errors.method}
      />
      <fieldset aria-describedby={errors.destinations ? "route-destinations-error" : undefined}>
        <legend>Destinations</legend>
        {destinations.length === 0
          ? (
            <p class="muted small">
              No destinations yet: <a href="/ui/destinations/new">create one</a> first.
            </p>
          )
          : destinations.map((d) => (
            <CheckField
              key={d.id}
              id={`route-dest-${d.id}`}
              label={`${d.name} (${d.type})`}
              checked={chosen.has(d.id)}
              onChange={(on) => toggle(d.id, on)}
            />
          ))}
        {errors.destinations
          ? <p class="error" id="route-destinations-error" role="alert">{errors.destinations}</p>
          : null}
      </fieldset>
      {JSON_PARTS.map(([k, label, kind, placeholder]) => (
        <JsonField
          key={k}
          id={`route-${k}`}
          label={label}
          kind={kind}
          rows={k === "pipeline" || k === "rules" ? 6 : 3}
          value={json[k]}
          placeholder={placeholder}
          onInput={(v) => setJson((j) => ({ ...j, [k]: v }))}
          error={errors[k]}
          hint={`Optional JSON ${kind}; see docs/pipeline.md.`}
        />
      ))}
      <CheckField id="route-active" label="Active" checked={active} onChange={setActive} />
      <SaveRow
        label={initial?.id ? "Save route" : "Create route"}
        busy={busy}
        alert={alert}
        notice={notice}
      />
    </form>
  );
}
