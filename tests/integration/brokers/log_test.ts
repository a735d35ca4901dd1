import assert from "node:assert/strict";
import type { Outgoing } from "../../../core/ports.ts";
import { LogPublisher, logPublisherFactory } from "../../../adapters/brokers/log/publisher.ts";
import { outgoing } from "../../conformance/publisher_suite.ts";

const dec = new TextDecoder();

function capture() {
  const chunks: string[] = [];
  return {
    chunks,
    write: (b: Uint8Array) => {
      chunks.push(dec.decode(b));
      return Promise.resolve();
    },
  };
}

const binary: Outgoing = {
  id: "dlv_bin",
  eventId: "evt_bin",
  body: Uint8Array.of(0xff, 0x00, 0xfe, 0x80),
  headers: { "content-type": "application/octet-stream" },
  attempt: 3,
};

Deno.test("log: one JSON line per message, one write per batch, text or base64 body", async () => {
  const out = capture();
  const p = new LogPublisher(logPublisherFactory.parseConfig({}), out.write);
  const ac = new AbortController();
  await p.connect(ac.signal);
  const batch = [...outgoing(2, "l"), binary];
  assert.deepEqual(await p.publish(batch, ac.signal), batch.map(() => ({ ok: true })));
  assert.deepEqual(await p.publish(outgoing(1, "second"), ac.signal), [{ ok: true }]);
  await p.close();

  assert.equal(out.chunks.length, 2, "one write per batch");
  const lines = out.chunks.join("").split("\n");
  assert.equal(lines.pop(), "", "ends with a newline");
  assert.equal(lines.length, 4);
  const recs = lines.map((l) => JSON.parse(l));
  assert.deepEqual(Object.keys(recs[0]), [
    "ts",
    "delivery_id",
    "event_id",
    "attempt",
    "key",
    "headers",
    "body",
    "body_encoding",
  ]);
  assert.ok(!Number.isNaN(Date.parse(recs[0].ts)));
  assert.equal(recs[0].delivery_id, "dlv_l0000");
  assert.equal(recs[0].event_id, "evt_l0");
  assert.equal(recs[0].key, "k1");
  assert.deepEqual(recs[0].headers, { "content-type": "application/json", "x-seq": "0" });
  assert.equal(recs[0].body, JSON.stringify({ seq: 0, text: "héllo 0" }));
  assert.equal(recs[0].body_encoding, "utf8");
  assert.equal(recs[2].delivery_id, "dlv_bin");
  assert.equal(recs[2].key, undefined);
  assert.equal(recs[2].attempt, 3);
  assert.equal(recs[2].body_encoding, "base64");
  assert.equal(recs[2].body, btoa(String.fromCharCode(0xff, 0x00, 0xfe, 0x80)));
  assert.equal(recs[3].delivery_id, "dlv_second0000");
});

Deno.test("log: pretty indents; a failing write is retriable; abort is retriable", async () => {
  const out = capture();
  const pretty = new LogPublisher({ pretty: true }, out.write);
  const ac = new AbortController();
  await pretty.publish(outgoing(1, "p"), ac.signal);
  assert.match(out.chunks[0], /^\{\n {2}"ts": /);
  assert.equal(JSON.parse(out.chunks[0]).delivery_id, "dlv_p0000");

  const broken = new LogPublisher({ pretty: false }, () => Promise.reject(new Error("EPIPE")));
  const [r] = await broken.publish(outgoing(1, "b"), ac.signal);
  assert.ok(!r.ok && !r.permanent && /log: EPIPE/.test(r.error));

  ac.abort();
  const [a] = await pretty.publish(outgoing(1, "a"), ac.signal);
  assert.ok(!a.ok && !a.permanent);
});

Deno.test("log: config errors name the field", () => {
  assert.throws(() => logPublisherFactory.parseConfig({ pretty: "yes" }), /log config: pretty: /);
  assert.throws(() => logPublisherFactory.parseConfig({ colour: true }), /colour/);
  assert.deepEqual(logPublisherFactory.parseConfig({}), { pretty: false });
});

Deno.test("log: the factory's publisher writes to stdout", async () => {
  const module = new URL("../../../adapters/brokers/log/publisher.ts", import.meta.url).href;
  const script = `
    import { logPublisherFactory as f } from ${JSON.stringify(module)};
    const p = f.create(f.parseConfig({}), undefined);
    const ac = new AbortController();
    const m = { id: "dlv_1", eventId: "evt_1", body: new TextEncoder().encode("{}"), headers: {}, attempt: 1 };
    const r = await p.publish([m, { ...m, id: "dlv_2" }], ac.signal);
    if (!r.every((x) => x.ok)) Deno.exit(1);
  `;
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    cwd: new URL("../../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  });
  const res = await cmd.output();
  assert.equal(res.code, 0, dec.decode(res.stderr));
  const lines = dec.decode(res.stdout).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.delivery_id), ["dlv_1", "dlv_2"]);
  assert.equal(lines[0].body, "{}");
});
