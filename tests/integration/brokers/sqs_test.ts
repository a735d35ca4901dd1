/**
 * SQS publisher against moto's server (tests/peers/servers/moto.sh): the shared publisher suite
 * on a standard and a FIFO queue, then FIFO ids, partial batch failure, a missing queue and a
 * closed port. Messages are read back with the SDK's ReceiveMessage.
 */
import assert from "node:assert/strict";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { outgoing, publisherSuite, type ReadBack } from "../../conformance/publisher_suite.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import { closedPort } from "../../helpers/broker_instances.ts";
import { testContext } from "../../helpers/publisher_context.ts";
import {
  assertClosedPortRetriable,
  assertGuardRefuses,
  assertMissingTarget,
} from "../../helpers/publish_faults.ts";
import {
  SqsPublisher,
  sqsPublisherFactory,
  tenantSqsPublisherFactory,
} from "../../../adapters/brokers/sqs/publisher.ts";
import { parseSqsConfig } from "../../../adapters/brokers/sqs/config.ts";

const gate = needs("SQS_ENDPOINT");
const enc = new TextEncoder();

function aws() {
  return {
    endpoint: mustPeer("SQS_ENDPOINT"),
    region: mustPeer("AWS_REGION"),
    access_key_id: mustPeer("AWS_ACCESS_KEY_ID"),
    secret_access_key: mustPeer("AWS_SECRET_ACCESS_KEY"),
  };
}

function adminClient(): SQSClient {
  const a = aws();
  return new SQSClient({
    endpoint: a.endpoint,
    region: a.region,
    credentials: { accessKeyId: a.access_key_id, secretAccessKey: a.secret_access_key },
  });
}

async function createQueue(
  sqs: SQSClient,
  fifo: boolean,
  attributes: Record<string, string> = {},
): Promise<string> {
  const name = `er-test-${crypto.randomUUID().slice(0, 8)}${fifo ? ".fifo" : ""}`;
  const out = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: fifo ? { FifoQueue: "true", ...attributes } : attributes,
    }),
  );
  return out.QueueUrl!;
}

/** Receives (and deletes) up to `count` messages, waiting at most `timeoutMs`. */
async function receive(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  timeoutMs: number,
): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, count - got.length),
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const msgs = out.Messages ?? [];
    if (msgs.length) {
      got.push(...msgs);
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: msgs.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
  return got;
}

function toReadBack(m: Message): ReadBack {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) {
    if (v.StringValue !== undefined) headers[k] = v.StringValue;
  }
  return { body: enc.encode(m.Body ?? ""), headers, id: headers["delivery_id"] ?? "" };
}

function suiteSetup(fifo: boolean) {
  return async () => {
    const sqs = adminClient();
    const queueUrl = await createQueue(sqs, fifo);
    const publisher = sqsPublisherFactory.create(
      sqsPublisherFactory.parseConfig({ queue_url: queueUrl, ...aws() }),
      testContext(),
    );
    return {
      publisher,
      readBack: async (count: number, timeoutMs: number) =>
        (await receive(sqs, queueUrl, count, timeoutMs)).map(toReadBack),
      cleanup: async () => {
        await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
        sqs.destroy();
      },
    };
  };
}

publisherSuite("sqs standard queue", {
  ordered: false,
  ignore: gate.ignore,
  setup: suiteSetup(false),
});
publisherSuite("sqs fifo queue", { ordered: true, ignore: gate.ignore, setup: suiteSetup(true) });

function publisherFor(queueUrl: string, extra: Record<string, unknown> = {}) {
  const cfg = sqsPublisherFactory.parseConfig({ queue_url: queueUrl, ...aws(), ...extra });
  return sqsPublisherFactory.create(cfg, testContext());
}

Deno.test({
  name: "sqs fifo: group id from the key or message_group_id, dedup id = delivery id",
  ...gate,
  async fn() {
    const sqs = adminClient();
    const queueUrl = await createQueue(sqs, true);
    const p = publisherFor(queueUrl, { message_group_id: "fallback" });
    const ac = new AbortController();
    try {
      await p.connect(ac.signal);
      const [a, b, c] = outgoing(3, "f");
      const noKey = { ...c, key: null };
      const r1 = await p.publish([a, b, noKey], ac.signal);
      assert.deepEqual(r1, [{ ok: true }, { ok: true }, { ok: true }]);
      // The same delivery again (a retry after a lost answer): SQS drops it by its dedup id.
      assert.deepEqual(await p.publish([a], ac.signal), [{ ok: true }]);
      const got = await receive(sqs, queueUrl, 4, 2_500);
      assert.equal(got.length, 3, "the duplicate was dropped");
      const byId = new Map(got.map((m) => [toReadBack(m).id, m]));
      assert.equal(byId.get(a.id)!.Attributes?.MessageGroupId, "k1");
      assert.equal(byId.get(a.id)!.Attributes?.MessageDeduplicationId, a.id);
      assert.equal(byId.get(noKey.id)!.Attributes?.MessageGroupId, "fallback");
      assert.equal(toReadBack(byId.get(b.id)!).headers["event_id"], b.eventId);
    } finally {
      await p.close();
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      sqs.destroy();
    }
  },
});

Deno.test({
  name: "sqs: one oversize message in a batch fails alone and permanently; the others arrive",
  ...gate,
  async fn() {
    const sqs = adminClient();
    const queueUrl = await createQueue(sqs, false, { MaximumMessageSize: "1024" });
    const p = publisherFor(queueUrl);
    const ac = new AbortController();
    try {
      await p.connect(ac.signal);
      const batch = outgoing(5, "o");
      batch[2] = { ...batch[2], body: enc.encode("x".repeat(4000)) };
      const results = await p.publish(batch, ac.signal);
      assert.equal(results.length, 5);
      results.forEach((r, i) => {
        if (i === 2) {
          assert.equal(r.ok, false);
          assert.equal((r as { permanent: boolean }).permanent, true, JSON.stringify(r));
        } else assert.deepEqual(r, { ok: true }, `message ${i}`);
      });
      const got = (await receive(sqs, queueUrl, 4, 5_000)).map(toReadBack);
      assert.deepEqual(
        new Set(got.map((m) => m.id)),
        new Set([0, 1, 3, 4].map((i) => batch[i].id)),
      );
    } finally {
      await p.close();
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      sqs.destroy();
    }
  },
});

Deno.test({
  name: "sqs: a missing queue is a clear permanent error",
  ...gate,
  async fn() {
    const url = `${mustPeer("SQS_ENDPOINT")}/123456789012/er-no-such-queue-${Date.now()}`;
    const p = publisherFor(url);
    try {
      await assertMissingTarget(p, outgoing(3, "q"), /QueueDoesNotExist|NonExistentQueue/, url);
    } finally {
      await p.close();
    }
  },
});

Deno.test("sqs: a closed port is a retriable error within seconds, and healthy() turns false", async () => {
  const port = closedPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const p = sqsPublisherFactory.create(
    parseSqsConfig({
      queue_url: `${endpoint}/123456789012/q`,
      endpoint,
      region: "us-east-1",
      access_key_id: "test",
      secret_access_key: "test",
      timeout_ms: 3_000,
    }),
    testContext(),
  );
  await assertClosedPortRetriable(p, 12);
});

Deno.test("sqs: queue_url alone (no endpoint) goes through the address guard", () =>
  assertGuardRefuses((host, port, ctx) =>
    sqsPublisherFactory.create(
      parseSqsConfig({
        queue_url: `http://${host}:${port}/123456789012/q`,
        region: "us-east-1",
        access_key_id: "test",
        secret_access_key: "test",
        timeout_ms: 2_000,
      }),
      ctx,
    )
  ));

Deno.test("sqs: a custom endpoint goes through the address guard", () =>
  assertGuardRefuses((host, port, ctx) =>
    sqsPublisherFactory.create(
      parseSqsConfig({
        queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        endpoint: `http://${host}:${port}`,
        access_key_id: "test",
        secret_access_key: "test",
        timeout_ms: 2_000,
      }),
      ctx,
    )
  ));

Deno.test("sqs: a tenant's destination needs access keys (never the node's credentials)", () => {
  const queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/q";
  assert.throws(
    () => tenantSqsPublisherFactory.parseConfig({ queue_url }),
    /access_key_id: required/,
  );
  assert.ok(sqsPublisherFactory.parseConfig({ queue_url }), "admins may use the node's");
  assert.ok(
    tenantSqsPublisherFactory.parseConfig({
      queue_url,
      access_key_id: "a",
      secret_access_key: "b",
    }),
  );
});

Deno.test("sqs: per-entry Failed answers map to permanent (SenderFault) or retriable", async () => {
  const seen: string[] = [];
  const p = new SqsPublisher(
    parseSqsConfig({ queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/q" }),
    testContext(),
    (opts) => {
      assert.equal(opts.region, "eu-west-1", "region inferred from the queue URL");
      return {
        send: (cmd) => {
          seen.push(cmd.constructor.name);
          return Promise.resolve({
            Successful: [{ Id: "m0" }, { Id: "m3" }],
            Failed: [
              { Id: "m1", SenderFault: true, Code: "InvalidParameterValue", Message: "bad" },
              { Id: "m2", SenderFault: false, Code: "InternalError", Message: "try again" },
            ],
          });
        },
        destroy: () => {},
      };
    },
  );
  const ac = new AbortController();
  const r = await p.publish(outgoing(5, "e"), ac.signal);
  assert.deepEqual(seen, ["SendMessageBatchCommand"]);
  assert.deepEqual(r[0], { ok: true });
  assert.deepEqual(r[1], {
    ok: false,
    permanent: true,
    error: "sqs SendMessageBatch: InvalidParameterValue: bad",
  });
  assert.equal((r[2] as { permanent: boolean }).permanent, false);
  assert.deepEqual(r[3], { ok: true });
  assert.equal(r[4].ok, false, "an entry missing from the answer is retried");
  assert.equal((r[4] as { permanent: boolean }).permanent, false);
  await p.close();
});

Deno.test("sqs: an aborted signal ends publish at once with retriable results", async () => {
  const p = new SqsPublisher(
    parseSqsConfig({ queue_url: "https://sqs.us-east-1.amazonaws.com/1/q" }),
    testContext(),
    () => ({
      send: (_cmd, { abortSignal }) =>
        new Promise((_, reject) =>
          abortSignal.addEventListener("abort", () => reject(abortSignal.reason), { once: true })
        ),
      destroy: () => {},
    }),
  );
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const t0 = Date.now();
  const r = await p.publish(outgoing(3, "a"), ac.signal);
  assert.ok(Date.now() - t0 < 2_000);
  for (const x of r) assert.equal((x as { permanent: boolean }).permanent, false);
  await p.close();
});

Deno.test("sqs config: errors name the field", () => {
  assert.throws(() => parseSqsConfig({}), /queue_url/);
  assert.throws(
    () => parseSqsConfig({ queue_url: "http://127.0.0.1:4566/1/q" }),
    /region: required: cannot infer it from queue_url/,
  );
  assert.throws(
    () =>
      parseSqsConfig({ queue_url: "https://sqs.us-east-1.amazonaws.com/1/q", access_key_id: "A" }),
    /secret_access_key: access_key_id and secret_access_key must be given together/,
  );
  assert.throws(
    () => parseSqsConfig({ queue_url: "https://sqs.us-east-1.amazonaws.com/1/q", queueUrl: "x" }),
    /queueUrl/,
  );
  const c = parseSqsConfig({ queue_url: "https://sqs.us-east-1.amazonaws.com/1/q.fifo" });
  assert.equal(c.timeout_ms, 10_000);
  assert.equal(c.max_batch_bytes, 262_144);
});
