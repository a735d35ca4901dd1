/**
 * The five consumer trigger configs: defaults, unknown keys refused, errors naming the field,
 * and their secret fields found by the one secret rule (so the API seals and masks them).
 */
import assert from "node:assert/strict";
import { secretPaths } from "../../../core/model/secret_fields.ts";
import { SOURCES, TENANT_SOURCES } from "../../../adapters/sources/registry.ts";

const parse = (type: string, c: unknown) => SOURCES[type].parseConfig(c) as Record<string, unknown>;
const refuses = (type: string, c: unknown, field: RegExp) =>
  assert.throws(() => SOURCES[type].parseConfig(c), field, `${type}: ${JSON.stringify(c)}`);

const key = {
  client_email: "router@acme.iam.gserviceaccount.com",
  private_key: "-----BEGIN PRIVATE KEY-----\nMII...\n-----END PRIVATE KEY-----\n",
};

Deno.test("consumer configs: defaults, unknown keys and bad fields refused by name", () => {
  assert.deepEqual(parse("rabbitmq", { url: "amqp://h/", queue: "q" }), {
    url: "amqp://h/",
    queue: "q",
    prefetch: 100,
    timeout_ms: 10_000,
  });
  refuses("rabbitmq", { url: "amqp://h/", queue: "q", colour: 1 }, /colour/);
  refuses("rabbitmq", { url: "http://h/", queue: "q" }, /rabbitmq config: url: expected an amqp/);
  refuses("rabbitmq", { url: "amqp://h/", queue: "q", prefetch: 0 }, /prefetch/);
  refuses(
    "rabbitmq",
    { url: "amqp://h/", queue: "q", declare: { exchange_type: "x" } },
    /declare\.exchange_type/,
  );

  const k = parse("kafka", { brokers: ["k:9092"], topic: "t", group_id: "g" });
  assert.equal(k.from_beginning, false);
  assert.equal(k.session_timeout_ms, 30_000);
  refuses(
    "kafka",
    { brokers: ["k:9092"], group_id: "g" },
    /topic: set exactly one of topic or topics/,
  );
  refuses("kafka", { brokers: ["k:9092"], topic: "a", topics: ["b"], group_id: "g" }, /topic/);
  refuses(
    "kafka",
    { brokers: ["k"], topic: "t", group_id: "g" },
    /brokers\[0\]: expected host:port/,
  );
  refuses("kafka", { brokers: ["k:9092"], topic: "t" }, /group_id/);

  const r = parse("redis", { url: "redis://h:6379", stream: "s", group: "g" });
  assert.equal(r.start_id, "$");
  assert.equal(r.body_field, "body");
  assert.equal(r.claim_idle_ms, 60_000);
  refuses("redis", { stream: "s", group: "g" }, /url: set exactly one of url or address/);
  refuses("redis", { address: "h:6379", stream: "s", group: "g", start_id: "later" }, /start_id/);
  refuses(
    "redis",
    { address: "h:6379", stream: "s", group: "g", claim_idle_ms: 5 },
    /claim_idle_ms/,
  );

  const q = parse("sqs", { queue_url: "https://sqs.eu-west-1.amazonaws.com/1/q" });
  assert.equal(q.wait_seconds, 20);
  assert.equal(q.max_messages, 10);
  refuses(
    "sqs",
    { queue_url: "https://sqs.eu-west-1.amazonaws.com/1/q", max_messages: 11 },
    /max_messages/,
  );
  refuses(
    "sqs",
    { queue_url: "https://sqs.eu-west-1.amazonaws.com/1/q", wait_seconds: 21 },
    /wait_seconds/,
  );
  refuses("sqs", { queue_url: "http://moto:4566/1/q" }, /region: required/);
  refuses(
    "sqs",
    { queue_url: "http://moto:4566/1/q", region: "x", access_key_id: "a" },
    /secret_access_key/,
  );

  const p = parse("pubsub", { project_id: "acme-orders", subscription: "sub" });
  assert.deepEqual(p.flow_control, { max_messages: 1_000 });
  refuses("pubsub", { project_id: "acme-orders", subscription: "s" }, /subscription/);
  refuses("pubsub", { project_id: "A", subscription: "sub" }, /project_id/);
  refuses(
    "pubsub",
    { project_id: "acme-orders", subscription: "sub", credentials: "{}" },
    /credentials/,
  );
});

Deno.test("consumer configs: credentials are found by the secret rule", () => {
  const paths = (type: string, c: Record<string, unknown>) =>
    secretPaths(parse(type, c)).map((p) => p.join("."));
  assert.deepEqual(paths("rabbitmq", { url: "amqp://u:pw@h/", queue: "q" }), ["url"]);
  assert.deepEqual(
    paths("kafka", {
      brokers: ["k:9092"],
      topic: "t",
      group_id: "g",
      sasl: { mechanism: "plain", username: "u", password: "pw" },
    }),
    ["sasl.password"],
  );
  assert.deepEqual(paths("redis", { url: "redis://:pw@h:6379", stream: "s", group: "g" }), ["url"]);
  assert.deepEqual(
    paths("redis", { address: "h:6379", password: "pw", stream: "s", group: "g" }),
    ["password"],
  );
  assert.deepEqual(
    paths("sqs", {
      queue_url: "https://sqs.eu-west-1.amazonaws.com/1/q",
      access_key_id: "AKIA",
      secret_access_key: "sk",
      session_token: "st",
    }),
    ["secret_access_key", "session_token"],
  );
  assert.deepEqual(
    paths("pubsub", { project_id: "acme-orders", subscription: "sub", credentials: key }),
    ["credentials.client_email", "credentials.private_key"],
  );
});

Deno.test("consumer configs: tenants' cloud triggers need credentials of their own", () => {
  const sqs = { queue_url: "https://sqs.eu-west-1.amazonaws.com/1/q" };
  assert.throws(() => TENANT_SOURCES.sqs.parseConfig(sqs), /access_key_id: required/);
  TENANT_SOURCES.sqs.parseConfig({ ...sqs, access_key_id: "AKIA", secret_access_key: "sk" });
  const sub = { project_id: "acme-orders", subscription: "sub" };
  assert.throws(() => TENANT_SOURCES.pubsub.parseConfig(sub), /credentials: required/);
  TENANT_SOURCES.pubsub.parseConfig({ ...sub, credentials: key });
  // An emulator needs none.
  TENANT_SOURCES.pubsub.parseConfig({ ...sub, emulator_host: "127.0.0.1:8085" });
});
