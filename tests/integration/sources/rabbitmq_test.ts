/**
 * RabbitMQ consumer (trigger type `rabbitmq`) against a real RabbitMQ: the shared consumer
 * suite (shared server, and a private instance for the outage), producing with amqplib's
 * confirm channel; then a declared topic binding and a queue deleted under the consumer.
 */
import assert from "node:assert/strict";
import {
  consumerSuite,
  onInstance,
  produced,
  sourceTest,
  waitFor,
} from "../../conformance/consumer_suite.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { privateInstance } from "../../helpers/broker_instances.ts";
import { amqpPublish, rabbitmqTarget, withAmqp } from "../../helpers/consumer_targets.ts";
import { rabbitmqSourceFactory } from "../../../adapters/sources/rabbitmq/source.ts";
import { uniqueName } from "../../helpers/unique_name.ts";

const gate = needs("RABBITMQ_URL");
const uniq = () => uniqueName("er-src");
const dec = new TextDecoder();

const instance = { PEER_INSTANCE: "consumers-rabbitmq", RABBITMQ_PORT: "5702" };
const server = privateInstance("rabbitmq.sh", instance);

consumerSuite("rabbitmq source", {
  factory: rabbitmqSourceFactory,
  ignore: gate.ignore,
  reportsLag: true,
  setup: () => rabbitmqTarget(mustPeer("RABBITMQ_URL")),
  metadata(e, m) {
    assert.equal(e.headers["x-rabbitmq-message-id"], m.id);
    assert.equal(e.dedupKey?.endsWith(`msg:${m.id}`), true, "dedup key = message id");
    assert.equal(e.headers["content-type"], "application/json");
    assert.equal(e.headers["x-rabbitmq-routing-key"], e.headers["x-rabbitmq-queue"]);
    assert.equal(e.headers["x-rabbitmq-redelivered"] !== undefined, true);
  },
  guardedConfig: (host, port) => ({ url: `amqp://guest:guest@${host}:${port}/`, queue: "q" }),
  async outage() {
    await server("start");
    const url = `amqp://guest:guest@127.0.0.1:${instance.RABBITMQ_PORT}/`;
    const t = await rabbitmqTarget(url);
    return onInstance(t, server);
  },
});

sourceTest(
  "rabbitmq source: declares its queue and topic binding; exchange and routing key as headers",
  gate.ignore,
  async ({ h, defer, start }) => {
    const url = mustPeer("RABBITMQ_URL");
    const queue = uniq(), exchange = `${queue}-x`;
    defer(() =>
      withAmqp(url, async (conn) => {
        const ch = await conn.createChannel();
        await ch.deleteQueue(queue);
        await ch.deleteExchange(exchange);
      }).catch(() => {})
    );
    const r = start(rabbitmqSourceFactory, {
      url,
      queue,
      declare: { exchange, exchange_type: "topic", routing_key: "order.*", durable: false },
    });
    await waitFor(() => "connected", () => r.status().state === "connected");
    const [created, other] = produced(2, "decl");
    await amqpPublish(url, exchange, "order.created", [created]);
    await amqpPublish(url, exchange, "invoice.sent", [other]); // not bound: never arrives
    await waitFor(() => "one event", async () => (await h.events()).length >= 1);
    const [e] = await h.events();
    assert.equal(dec.decode(e.body), dec.decode(created.body));
    assert.equal(e.headers["x-rabbitmq-exchange"], exchange);
    assert.equal(e.headers["x-rabbitmq-routing-key"], "order.created");
    assert.equal(e.headers["x-rabbitmq-queue"], queue);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal((await h.events()).length, 1, "the unbound routing key was not consumed");
  },
);

sourceTest(
  "rabbitmq source: a queue deleted under the consumer shows as an error, then resumes",
  gate.ignore,
  async ({ h, defer, start }) => {
    const url = mustPeer("RABBITMQ_URL");
    const t = await rabbitmqTarget(url);
    defer(() => t.cleanup());
    const r = start(rabbitmqSourceFactory, t.config);
    await waitFor(() => "connected", () => r.status().state === "connected");
    await t.cleanup(); // deletes the queue
    await waitFor(
      () => `an error naming the queue (${JSON.stringify(r.status())})`,
      () =>
        r.status().state === "error" && /NOT_FOUND|cancelled/.test(String(r.status().last_error)),
    );
    const queue = String(t.config.queue);
    await withAmqp(url, async (conn) => {
      await (await conn.createChannel()).assertQueue(queue, { durable: true });
    });
    await t.produce(produced(3, "back"));
    await waitFor(
      () => "3 events after the queue came back",
      async () => (await h.events()).length >= 3,
      20_000,
    );
    assert.equal(r.status().state, "connected");
  },
);
