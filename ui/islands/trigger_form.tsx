/**
 * Create or edit a trigger: name, type (the node's trigger types), the route it feeds, config
 * as JSON (the type's fields listed from its JSON Schema), active.
 */
import { useState } from "preact/hooks";
import { parseJsonField, pretty } from "./api.ts";
import { CheckField, JsonField, SelectField, TextField } from "./fields.tsx";
import { SaveRow } from "./save_row.tsx";
import { FIX_FIELDS, useSave } from "./use_save.ts";

const FIELDS = ["name", "description", "type", "route_id", "config", "active"] as const;

export interface TriggerType {
  type: string;
  config_schema: {
    properties?: Record<
      string,
      { type?: string | string[]; description?: string; default?: unknown }
    >;
    required?: string[];
  };
}

export interface TriggerValue {
  id?: string;
  name: string;
  description?: string;
  type: string;
  route_id: string;
  config: Record<string, unknown>;
  active: boolean;
}

/** A config with the type's required fields, each an empty value of its kind. */
export function exampleConfig(t: TriggerType | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of t?.config_schema.required ?? []) {
    const p = t?.config_schema.properties?.[k];
    const kind = Array.isArray(p?.type) ? p?.type[0] : p?.type;
    out[k] = p?.default ??
      (kind === "number" || kind === "integer"
        ? 0
        : kind === "boolean"
        ? false
        : kind === "array"
        ? []
        : kind === "object"
        ? {}
        : "");
  }
  return out;
}

function FieldList({ t }: { t?: TriggerType }) {
  const props = Object.keys(t?.config_schema.properties ?? {});
  if (!props.length) return <>JSON object.</>;
  const req = new Set(t?.config_schema.required ?? []);
  return (
    <>
      JSON object with {props.map((k, i) => (
        <span key={k}>
          {i ? ", " : ""}
          <code>{k}</code>
          {req.has(k) ? " (required)" : ""}
        </span>
      ))}
      . Secrets show as ****; leave them so to keep the stored ones.
    </>
  );
}

export function TriggerForm(
  { initial, types, routes }: {
    initial?: TriggerValue;
    types: TriggerType[];
    routes: Array<{ id: string; name: string }>;
  },
) {
  const byType = Object.fromEntries(types.map((t) => [t.type, t]));
  const firstType = initial?.type ?? types[0]?.type ?? "";
  const [name, setName] = useState(initial?.name ?? "");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [type, setType] = useState(firstType);
  const [routeId, setRouteId] = useState(initial?.route_id ?? routes[0]?.id ?? "");
  const [config, setConfig] = useState(pretty(initial?.config ?? exampleConfig(byType[firstType])));
  const [active, setActive] = useState(initial?.active ?? true);
  const { busy, errors, alert, notice, setAlert, setNotice, saveRecord } = useSave(FIELDS);

  const changeType = (t: string) => {
    if (!initial && config === pretty(exampleConfig(byType[type]))) {
      setConfig(pretty(exampleConfig(byType[t])));
    }
    setType(t);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setNotice(undefined);
    const c = parseJsonField(config, "object");
    if (c.error) {
      setAlert(FIX_FIELDS);
      return;
    }
    const body: Record<string, unknown> = {
      name,
      type,
      route_id: routeId,
      config: c.value ?? {},
      active,
    };
    if (description) body.description = description;
    const saved = await saveRecord("triggers", initial?.id, body);
    if (saved) {
      setConfig(pretty(saved.config));
      setNotice("Saved");
    }
  };

  if (routes.length === 0) {
    return (
      <p class="muted">
        A trigger feeds a route: <a href="/ui/routes/new">create a route</a> first.
      </p>
    );
  }
  return (
    <form class="stack" onSubmit={submit} aria-label={initial?.id ? "Edit trigger" : "New trigger"}>
      <TextField
        id="trigger-name"
        label="Name"
        value={name}
        onInput={setName}
        required
        error={errors.name}
      />
      <TextField
        id="trigger-description"
        label="Description"
        value={description}
        onInput={setDescription}
        error={errors.description}
      />
      <SelectField
        id="trigger-type"
        label="Type"
        value={type}
        options={types.map((t) => [t.type, t.type])}
        onChange={changeType}
        error={errors.type}
      />
      <SelectField
        id="trigger-route"
        label="Route"
        value={routeId}
        options={routes.map((r) => [r.id, r.name])}
        onChange={setRouteId}
        error={errors.route_id}
        hint="Its events go through this route's rules, pipeline and destinations."
      />
      <JsonField
        id="trigger-config"
        label="Config"
        kind="object"
        rows={8}
        value={config}
        onInput={setConfig}
        error={errors.config}
        hint={<FieldList t={byType[type]} />}
      />
      <CheckField id="trigger-active" label="Active" checked={active} onChange={setActive} />
      <SaveRow
        label={initial?.id ? "Save trigger" : "Create trigger"}
        busy={busy}
        alert={alert}
        notice={notice}
      />
    </form>
  );
}
