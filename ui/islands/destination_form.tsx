/** Create or edit a destination: name, type, config and retry as JSON, active. */
import { useState } from "preact/hooks";
import { parseJsonField, pretty } from "./api.ts";
import { CheckField, JsonField, SelectField, TextField } from "./fields.tsx";
import { SaveRow } from "./save_row.tsx";
import { FIX_FIELDS, useSave } from "./use_save.ts";

export const DESTINATION_TYPES = [
  "http",
  "log",
  "file",
  "rabbitmq",
  "kafka",
  "redis",
  "sqs",
  "sns",
  "pubsub",
] as const;

/** A starting config per type: what the README's table asks for. */
const EXAMPLES: Record<string, unknown> = {
  http: { url: "https://example.com/hooks" },
  log: {},
  file: { path: "./data/out.jsonl" },
  rabbitmq: { url: "amqp://user:pass@localhost:5672", queue: "events" },
  kafka: { brokers: ["localhost:9092"], topic: "events" },
  redis: { url: "redis://localhost:6379", stream: "events" },
  sqs: { queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/events" },
  sns: { topic_arn: "arn:aws:sns:eu-west-1:123456789012:events" },
  pubsub: { project_id: "my-project", topic: "events" },
};

const FIELDS = ["name", "type", "config", "retry", "active"] as const;

export interface DestinationValue {
  id?: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
  retry?: unknown;
  active: boolean;
}

export function DestinationForm({ initial }: { initial?: DestinationValue }) {
  const [name, setName] = useState(initial?.name ?? "");
  const [type, setType] = useState(initial?.type ?? "http");
  const [config, setConfig] = useState(pretty(initial?.config ?? EXAMPLES.http));
  const [retry, setRetry] = useState(pretty(initial?.retry));
  const [active, setActive] = useState(initial?.active ?? true);
  const { busy, errors, alert, notice, setAlert, setNotice, saveRecord } = useSave(FIELDS);

  const changeType = (t: string) => {
    // A fresh form follows the type's example until the user writes their own config.
    if (!initial && (config.trim() === "" || config === pretty(EXAMPLES[type]))) {
      setConfig(pretty(EXAMPLES[t]));
    }
    setType(t);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setNotice(undefined);
    const c = parseJsonField(config, "object");
    const r = parseJsonField(retry, "object");
    if (c.error || r.error) {
      setAlert(FIX_FIELDS);
      return;
    }
    const body: Record<string, unknown> = { name, type, config: c.value ?? {}, active };
    if (r.value !== undefined) body.retry = r.value;
    const saved = await saveRecord("destinations", initial?.id, body);
    if (saved) {
      setConfig(pretty(saved.config));
      setNotice("Saved");
    }
  };

  return (
    <form
      class="stack"
      onSubmit={submit}
      aria-label={initial?.id ? "Edit destination" : "New destination"}
    >
      <TextField
        id="dest-name"
        label="Name"
        value={name}
        onInput={setName}
        required
        error={errors.name}
      />
      <SelectField
        id="dest-type"
        label="Type"
        value={type}
        options={DESTINATION_TYPES.map((t) => [t, t])}
        onChange={changeType}
        error={errors.type}
      />
      <JsonField
        id="dest-config"
        label="Config"
        kind="object"
        rows={8}
        value={config}
        onInput={setConfig}
        error={errors.config}
        hint="JSON. Secrets show as ****; leave them so to keep the stored ones."
      />
      <JsonField
        id="dest-retry"
        label="Retry"
        kind="object"
        rows={3}
        value={retry}
        onInput={setRetry}
        error={errors.retry}
        placeholder='{"max_attempts": 8, "schedule_seconds": [0, 5, 300]}'
        hint="Optional JSON; empty keeps the default schedule."
      />
      <CheckField id="dest-active" label="Active" checked={active} onChange={setActive} />
      <SaveRow
        label={initial?.id ? "Save destination" : "Create destination"}
        busy={busy}
        alert={alert}
        notice={notice}
      />
    </form>
  );
}
