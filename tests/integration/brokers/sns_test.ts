/**
 * SNS publisher against moto's server (tests/peers/servers/moto.sh): the shared publisher suite
 * on a standard and a FIFO topic, read back through an SQS queue subscribed with raw message
 * delivery; then FIFO ids, partial batch failure, a missing topic and a closed port.
 */
import assert from "node:assert/strict";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
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
  SnsPublisher,
  snsPublisherFactory,
  tenantSnsPublisherFactory,
} from "../../../adapters/brokers/sns/publisher.ts";
import { parseSnsConfig } from "../../../adapters/brokers/sns/config.ts";

const gate = needs("SNS_ENDPOINT", "SQS_ENDPOINT");
const enc = new TextEncoder();

function aws() {
  return {
    endpoint: mustPeer("SNS_ENDPOINT"),
    region: mustPeer("AWS_REGION"),
    access_key_id: mustPeer("AWS_ACCESS_KEY_ID"),
    secret_access_key: mustPeer("AWS_SECRET_ACCESS_KEY"),
  };
}

function clientConfig(endpoint: string) {
  const a = aws();
  return {
    endpoint,
    region: a.region,
    credentials: { accessKeyId: a.access_key_id, secretAccessKey: a.secret_access_key },
  };
}

/** A topic with an SQS queue subscribed to it (raw message delivery), and how to remove both. */
interface Target {
  topicArn: string;
  queueUrl: string;
  sns: SNSClient;
  sqs: SQSClient;
  cleanup(): Promise<void>;
}

async function createTarget(fifo: boolean): Promise<Target> {
  const sns = new SNSClient(clientConfig(mustPeer("SNS_ENDPOINT")));
  const sqs = new SQSClient(clientConfig(mustPeer("SQS_ENDPOINT")));
  const name = `er-test-${crypto.randomUUID().slice(0, 8)}${fifo ? ".fifo" : ""}`;
  const fifoAttrs = fifo ? { FifoTopic: "true" } : undefined;
  const { TopicArn } = await sns.send(
    new CreateTopicCommand({ Name: name, Attributes: fifoAttrs }),
  );
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: "true" } : {} }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: "sqs",
      Endpoint: Attributes!.QueueArn,
      Attributes: { RawMessageDelivery: "true" },
    }),
  );
  return {
    topicArn: TopicArn!,
    queueUrl: QueueUrl!,
    sns,
    sqs,
    cleanup: async () => {
      await sns.send(new DeleteTopicCommand({ TopicArn }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      sns.destroy();
      sqs.destroy();
    },
  };
}

/** Receives (and deletes) up to `count` messages, waiting at most `timeoutMs`. */
async function receive(t: Target, count: number, timeoutMs: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    const out = await t.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: t.queueUrl,
        MaxNumberOfMessages: Math.min(10, count - got.length),
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const msgs = out.Messages ?? [];
    if (msgs.length) {
      got.push(...msgs);
      await t.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: t.queueUrl,
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

function publisherFor(topicArn: string, extra: Record<string, unknown> = {}) {
  const cfg = snsPublisherFactory.parseConfig({ topic_arn: topicArn, ...aws(), ...extra });
  return snsPublisherFactory.create(cfg, testContext());
}

function suiteSetup(fifo: boolean) {
  return async () => {
    const t = await createTarget(fifo);
    return {
      publisher: publisherFor(t.topicArn),
      readBack: async (count: number, timeoutMs: number) =>
        (await receive(t, count, timeoutMs)).map(toReadBack),
      cleanup: t.cleanup,
    };
  };
}

publisherSuite("sns standard topic", {
  ordered: false,
  ignore: gate.ignore,
  setup: suiteSetup(false),
});
publisherSuite("sns fifo topic", { ordered: true, ignore: gate.ignore, setup: suiteSetup(true) });

Deno.test({
  name: "sns fifo: group id from the key or message_group_id, attributes reach the subscriber",
  ...gate,
  async fn() {
    const t = await createTarget(true);
    const p = publisherFor(t.topicArn, { message_group_id: "fallback" });
    const ac = new AbortController();
    try {
      const [a, b] = outgoing(2, "f");
      const noKey = { ...b, key: null };
      assert.deepEqual(await p.publish([a, noKey], ac.signal), [{ ok: true }, { ok: true }]);
      const got = await receive(t, 2, 5_000);
      assert.equal(got.length, 2);
      const byId = new Map(got.map((m) => [toReadBack(m).id, m]));
      assert.equal(byId.get(a.id)!.Attributes?.MessageGroupId, "k1");
      assert.equal(byId.get(noKey.id)!.Attributes?.MessageGroupId, "fallback");
      const rb = toReadBack(byId.get(a.id)!);
      assert.equal(rb.headers["event_id"], a.eventId);
      assert.equal(rb.headers["content-type"], "application/json");
    } finally {
      await p.close();
      await t.cleanup();
    }
  },
});

Deno.test({
  name: "sns: one oversize message in a batch fails alone and permanently; the others arrive",
  ...gate,
  async fn() {
    const t = await createTarget(false);
    // A large batch budget keeps the oversize message inside the PublishBatch request, so the
    // per-entry Failed answer (SenderFault) is what decides.
    const p = publisherFor(t.topicArn, { max_batch_bytes: 1_048_576 });
    const ac = new AbortController();
    try {
      const batch = outgoing(4, "o");
      batch[1] = { ...batch[1], body: enc.encode("x".repeat(300_000)) };
      const results = await p.publish(batch, ac.signal);
      results.forEach((r, i) => {
        if (i === 1) {
          assert.equal(r.ok, false);
          assert.equal((r as { permanent: boolean }).permanent, true, JSON.stringify(r));
        } else assert.deepEqual(r, { ok: true }, `message ${i}`);
      });
      const got = (await receive(t, 3, 5_000)).map(toReadBack);
      assert.deepEqual(new Set(got.map((m) => m.id)), new Set([0, 2, 3].map((i) => batch[i].id)));
    } finally {
      await p.close();
      await t.cleanup();
    }
  },
});

Deno.test({
  name: "sns: a missing topic is a clear permanent error",
  ...gate,
  async fn() {
    const arn = `arn:aws:sns:${mustPeer("AWS_REGION")}:123456789012:er-no-such-topic-${Date.now()}`;
    const p = publisherFor(arn);
    try {
      // A lone message goes through Publish, more through PublishBatch: both must say so.
      for (const n of [1, 3]) await assertMissingTarget(p, outgoing(n, `q${n}`), /NotFound/, arn);
    } finally {
      await p.close();
    }
  },
});

Deno.test("sns: a closed port is a retriable error within seconds, and healthy() turns false", async () => {
  const port = closedPort();
  const p = snsPublisherFactory.create(
    parseSnsConfig({
      topic_arn: "arn:aws:sns:us-east-1:123456789012:t",
      endpoint: `http://127.0.0.1:${port}`,
      access_key_id: "test",
      secret_access_key: "test",
      timeout_ms: 3_000,
    }),
    testContext(),
  );
  await assertClosedPortRetriable(p, 12);
});

Deno.test("sns: a lone message uses Publish, more use PublishBatch; FIFO ids are set", async () => {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const p = new SnsPublisher(
    parseSnsConfig({ topic_arn: "arn:aws:sns:eu-west-1:123456789012:t.fifo" }),
    testContext(),
    (opts) => {
      assert.equal(opts.region, "eu-west-1", "region taken from the ARN");
      return {
        send: (cmd) => {
          sent.push({
            name: cmd.constructor.name,
            input: cmd.input as unknown as Record<string, unknown>,
          });
          return Promise.resolve({ Successful: [{ Id: "m0" }, { Id: "m1" }] });
        },
        destroy: () => {},
      };
    },
  );
  const ac = new AbortController();
  const [a, b] = outgoing(2, "s");
  assert.deepEqual(await p.publish([a], ac.signal), [{ ok: true }]);
  assert.deepEqual(await p.publish([a, b], ac.signal), [{ ok: true }, { ok: true }]);
  assert.deepEqual(sent.map((s) => s.name), ["PublishCommand", "PublishBatchCommand"]);
  assert.equal(sent[0].input.MessageGroupId, "k1");
  assert.equal(sent[0].input.MessageDeduplicationId, a.id);
  assert.equal(sent[0].input.Id, undefined, "Publish gets no batch entry id");
  await p.close();
});

Deno.test("sns: a custom endpoint goes through the address guard", () =>
  assertGuardRefuses((host, port, ctx) =>
    snsPublisherFactory.create(
      parseSnsConfig({
        topic_arn: "arn:aws:sns:us-east-1:123456789012:t",
        endpoint: `http://${host}:${port}`,
        access_key_id: "test",
        secret_access_key: "test",
        timeout_ms: 2_000,
      }),
      ctx,
    )
  ));

Deno.test("sns: a tenant's destination needs access keys (never the node's credentials)", () => {
  const topic_arn = "arn:aws:sns:us-east-1:123456789012:t";
  assert.throws(() => tenantSnsPublisherFactory.parseConfig({ topic_arn }), /access_key_id/);
  assert.ok(snsPublisherFactory.parseConfig({ topic_arn }), "admins may use the node's");
});

Deno.test("sns config: errors name the field", () => {
  assert.throws(() => parseSnsConfig({}), /topic_arn/);
  assert.throws(
    () => parseSnsConfig({ topic_arn: "orders" }),
    /topic_arn: must look like arn:aws:sns/,
  );
  assert.throws(
    () =>
      parseSnsConfig({
        topic_arn: "arn:aws:sns:us-east-1:123456789012:t",
        endpoint: "ftp://x",
      }),
    /endpoint: must be an http\(s\) URL/,
  );
  assert.throws(
    () => parseSnsConfig({ topic_arn: "arn:aws:sns:us-east-1:123456789012:t", timeout_ms: 5 }),
    /timeout_ms/,
  );
});
