/**
 * Node settings (admins): the tenants' outbound allow lists, retention, the ingest limits, and
 * the brokers used by destinations and triggers that name none. An emptied field is sent as
 * null: the key goes back to the node's default.
 */
import { useState } from "preact/hooks";
import { api } from "./api.ts";
import { FormAlert, FormNotice, TextField } from "./fields.tsx";

const FIELDS = [
  "allow_hosts",
  "allow_cidrs",
  "retention_days",
  "ingest_rate_per_second",
  "ingest_burst",
  "max_body_bytes",
  "broker_defaults",
] as const;

export interface SettingsValue {
  allow_hosts?: string[];
  allow_cidrs?: string[];
  retention_days?: number;
  ingest_rate_per_second?: number;
  ingest_burst?: number;
  max_body_bytes?: number;
  broker_defaults?: {
    rabbitmq?: { url: string };
    kafka?: { brokers: string[] };
    redis?: { url: string };
  };
}

const lines = (s: string) => s.split("\n").map((x) => x.trim()).filter(Boolean);
const num = (s: string) => (s.trim() === "" ? null : Number(s));

function Lines(
  p: {
    id: string;
    label: string;
    value: string;
    onInput: (v: string) => void;
    error?: string;
    hint: string;
  },
) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <textarea
        id={p.id}
        rows={4}
        value={p.value}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={`${p.id}-hint${p.error ? ` ${p.id}-error` : ""}`}
        onInput={(e) => p.onInput((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <span class="hint" id={`${p.id}-hint`}>{p.hint}</span>
      {p.error ? <p class="error" id={`${p.id}-error`} role="alert">{p.error}</p> : null}
    </div>
  );
}

export function SettingsForm({ initial }: { initial: SettingsValue }) {
  const [hosts, setHosts] = useState((initial.allow_hosts ?? []).join("\n"));
  const [cidrs, setCidrs] = useState((initial.allow_cidrs ?? []).join("\n"));
  const [retention, setRetention] = useState(String(initial.retention_days ?? ""));
  const [rate, setRate] = useState(String(initial.ingest_rate_per_second ?? ""));
  const [burst, setBurst] = useState(String(initial.ingest_burst ?? ""));
  const [maxBody, setMaxBody] = useState(String(initial.max_body_bytes ?? ""));
  const b = initial.broker_defaults ?? {};
  const [rabbit, setRabbit] = useState(b.rabbitmq?.url ?? "");
  const [kafka, setKafka] = useState((b.kafka?.brokers ?? []).join("\n"));
  const [redis, setRedis] = useState(b.redis?.url ?? "");
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [alert, setAlert] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  /** The part of a broker_defaults error that is about one broker. */
  const brokerError = (name: string) =>
    errors.broker_defaults?.split("; ").filter((p) => p.includes(`.${name}`)).join("; ") ||
    undefined;
  const submit = async (e: Event) => {
    e.preventDefault();
    setNotice(undefined);
    const body: Record<string, unknown> = { allow_hosts: lines(hosts), allow_cidrs: lines(cidrs) };
    const numbers = [
      ["retention_days", retention],
      ["ingest_rate_per_second", rate],
      ["ingest_burst", burst],
      ["max_body_bytes", maxBody],
    ] as const;
    for (const [k, v] of numbers) body[k] = num(v);
    const brokers: Record<string, unknown> = {};
    if (rabbit.trim()) brokers.rabbitmq = { url: rabbit.trim() };
    if (lines(kafka).length) brokers.kafka = { brokers: lines(kafka) };
    if (redis.trim()) brokers.redis = { url: redis.trim() };
    body.broker_defaults = Object.keys(brokers).length ? brokers : null;
    setBusy(true);
    const r = await api("POST", "/api/settings", body, FIELDS);
    setBusy(false);
    setErrors(r.fields ?? {});
    setAlert(r.ok ? undefined : r.message);
    if (r.ok) setNotice("Settings saved");
  };
  return (
    <form class="stack" onSubmit={submit} aria-label="Settings">
      <Lines
        id="set-hosts"
        label="Allowed hosts"
        value={hosts}
        onInput={setHosts}
        error={errors.allow_hosts}
        hint="One per line: hosts that tenants' destinations may reach even when private."
      />
      <Lines
        id="set-cidrs"
        label="Allowed networks"
        value={cidrs}
        onInput={setCidrs}
        error={errors.allow_cidrs}
        hint="One CIDR per line, e.g. 10.0.0.0/8."
      />
      <TextField
        id="set-retention"
        label="Retention days"
        type="number"
        value={retention}
        onInput={setRetention}
        error={errors.retention_days}
        hint="Delivered events older than this are removed (default: the node's RETENTION_DAYS)."
      />
      <TextField
        id="set-rate"
        label="Ingest rate per second"
        type="number"
        value={rate}
        onInput={setRate}
        error={errors.ingest_rate_per_second}
        hint="Webhooks per second for the whole node; 0: unlimited."
      />
      <TextField
        id="set-burst"
        label="Ingest burst"
        type="number"
        value={burst}
        onInput={setBurst}
        error={errors.ingest_burst}
      />
      <TextField
        id="set-max-body"
        label="Default body limit (bytes)"
        type="number"
        value={maxBody}
        onInput={setMaxBody}
        error={errors.max_body_bytes}
        hint="Webhook bodies larger than this are refused with 413, for routes without their own limit (default: the node's MAX_BODY_BYTES)."
      />
      <TextField
        id="set-rabbitmq"
        label="Default RabbitMQ URL"
        value={rabbit}
        onInput={setRabbit}
        error={brokerError("rabbitmq")}
        hint="amqp://user:password@host:5672/ for rabbitmq destinations and triggers without url (default: RABBITMQ_URL). The password is sealed and shown masked."
      />
      <Lines
        id="set-kafka"
        label="Default Kafka brokers"
        value={kafka}
        onInput={setKafka}
        error={brokerError("kafka")}
        hint="One host:port per line, for kafka destinations and triggers without brokers."
      />
      <TextField
        id="set-redis"
        label="Default Redis URL"
        value={redis}
        onInput={setRedis}
        error={brokerError("redis")}
        hint="redis://host:6379 for redis destinations and triggers without url or address."
      />
      <FormAlert message={alert} />
      <FormNotice message={notice} />
      <div class="row">
        <button type="submit" disabled={busy}>Save settings</button>
      </div>
    </form>
  );
}
