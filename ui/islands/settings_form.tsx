/**
 * Node settings (admins): the tenants' outbound allow lists, retention, the ingest limits, and
 * the brokers used by destinations and triggers that name none. An emptied field is sent as
 * null: the key goes back to the node's default.
 */
import { useState } from "preact/hooks";
import { TextAreaField, TextField } from "./fields.tsx";
import { SaveRow } from "./save_row.tsx";
import { useSave } from "./use_save.ts";

const FIELDS = [
  "allow_hosts",
  "allow_cidrs",
  "retention_days",
  "ingest_rate_per_second",
  "ingest_burst",
  "max_body_bytes",
  "broker_defaults",
] as const;

/** The number settings: one input each, sent as a number or null (back to the default). */
const NUMBERS = [
  {
    key: "retention_days",
    id: "set-retention",
    label: "Retention days",
    hint: "Delivered events older than this are removed (default: the node's RETENTION_DAYS).",
  },
  {
    key: "ingest_rate_per_second",
    id: "set-rate",
    label: "Ingest rate per second",
    hint: "Webhooks per second for the whole node; 0: unlimited.",
  },
  { key: "ingest_burst", id: "set-burst", label: "Ingest burst" },
  {
    key: "max_body_bytes",
    id: "set-max-body",
    label: "Default body limit (bytes)",
    hint:
      "Webhook bodies larger than this are refused with 413, for routes without their own limit (default: the node's MAX_BODY_BYTES).",
  },
] as const;
type NumberKey = typeof NUMBERS[number]["key"];

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

export function SettingsForm({ initial }: { initial: SettingsValue }) {
  const [hosts, setHosts] = useState((initial.allow_hosts ?? []).join("\n"));
  const [cidrs, setCidrs] = useState((initial.allow_cidrs ?? []).join("\n"));
  const [numbers, setNumbers] = useState(
    Object.fromEntries(NUMBERS.map(({ key }) => [key, String(initial[key] ?? "")])) as Record<
      NumberKey,
      string
    >,
  );
  const b = initial.broker_defaults ?? {};
  const [rabbit, setRabbit] = useState(b.rabbitmq?.url ?? "");
  const [kafka, setKafka] = useState((b.kafka?.brokers ?? []).join("\n"));
  const [redis, setRedis] = useState(b.redis?.url ?? "");
  const { busy, errors, alert, notice, setNotice, send } = useSave(FIELDS);
  /** The part of a broker_defaults error that is about one broker. */
  const brokerError = (name: string) =>
    errors.broker_defaults?.split("; ").filter((p) => p.includes(`.${name}`)).join("; ") ||
    undefined;
  const submit = async (e: Event) => {
    e.preventDefault();
    setNotice(undefined);
    const body: Record<string, unknown> = { allow_hosts: lines(hosts), allow_cidrs: lines(cidrs) };
    for (const { key } of NUMBERS) body[key] = num(numbers[key]);
    const brokers: Record<string, unknown> = {};
    if (rabbit.trim()) brokers.rabbitmq = { url: rabbit.trim() };
    if (lines(kafka).length) brokers.kafka = { brokers: lines(kafka) };
    if (redis.trim()) brokers.redis = { url: redis.trim() };
    body.broker_defaults = Object.keys(brokers).length ? brokers : null;
    const r = await send("POST", "/api/settings", body);
    if (r.ok) setNotice("Settings saved");
  };
  return (
    <form class="stack" onSubmit={submit} aria-label="Settings">
      <TextAreaField
        id="set-hosts"
        label="Allowed hosts"
        rows={4}
        value={hosts}
        onInput={setHosts}
        error={errors.allow_hosts}
        hint="One per line: hosts that tenants' destinations may reach even when private."
      />
      <TextAreaField
        id="set-cidrs"
        label="Allowed networks"
        rows={4}
        value={cidrs}
        onInput={setCidrs}
        error={errors.allow_cidrs}
        hint="One CIDR per line, e.g. 10.0.0.0/8."
      />
      {NUMBERS.map((n) => (
        <TextField
          key={n.key}
          id={n.id}
          label={n.label}
          type="number"
          value={numbers[n.key]}
          onInput={(v) => setNumbers((x) => ({ ...x, [n.key]: v }))}
          error={errors[n.key]}
          hint={"hint" in n ? n.hint : undefined}
        />
      ))}
      <TextField
        id="set-rabbitmq"
        label="Default RabbitMQ URL"
        value={rabbit}
        onInput={setRabbit}
        error={brokerError("rabbitmq")}
        hint="amqp://user:password@host:5672/ for rabbitmq destinations and triggers without url (default: RABBITMQ_URL). The password is sealed and shown masked."
      />
      <TextAreaField
        id="set-kafka"
        label="Default Kafka brokers"
        rows={4}
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
      <SaveRow label="Save settings" busy={busy} alert={alert} notice={notice} />
    </form>
  );
}
