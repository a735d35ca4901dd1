/** The `route test` CLI: golden files written, compared, diffs reported, exit codes. */
import assert from "node:assert/strict";
import { diffJson, routeTestCommand } from "../../../runtimes/deno/cli/route_test.ts";

const route = {
  name: "orders",
  rules: [
    { name: "big", when: { field: "body.total", range: { gte: 100 } }, destinations: ["dest_big"] },
    { name: "all", destinations: ["dest_all"] },
  ],
  pipeline: [
    { type: "validate", expression: "total >= 0", on_failure: "drop" },
    { type: "aggregate", name: "once", mode: "dedupe", key: "id", window_ms: 60000 },
    {
      type: "transform",
      operations: [
        { op: "copy", from: "id", to: "$key" },
        { op: "date_now", to: "processed_at" },
        { op: "copy", from: "$event.id", to: "event_id" },
      ],
    },
  ],
  destinations: [{ destination_id: "dest_big" }, { destination_id: "dest_all" }],
};

const samples = [
  { body: { id: "o1", total: 150 }, headers: { "content-type": "application/json" } },
  { body: { id: "o2", total: 5 } },
  { body: { id: "o1", total: 150 } },
  { body: { id: "o3", total: -1 } },
];

async function workspace() {
  const dir = await Deno.makeTempDir({ prefix: "route_test_cli_" });
  await Deno.writeTextFile(`${dir}/route.json`, JSON.stringify(route));
  await Deno.writeTextFile(
    `${dir}/samples.jsonl`,
    samples.map((s) => JSON.stringify(s)).join("\n") + "\n",
  );
  return dir;
}

function capture() {
  const lines: string[] = [];
  return {
    lines,
    io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) },
  };
}

const argv = (dir: string, ...extra: string[]) => [
  "test",
  "--route",
  `${dir}/route.json`,
  "--events",
  `${dir}/samples.jsonl`,
  `--expected=${dir}/expected`,
  ...extra,
];

Deno.test("route test --update writes golden files, then the same run passes", async () => {
  const dir = await workspace();
  try {
    const w = capture();
    assert.equal(await routeTestCommand(argv(dir, "--update"), w.io), 0);
    assert.deepEqual(w.lines, [`wrote 4 expected file(s) to ${dir}/expected`]);
    const first = JSON.parse(await Deno.readTextFile(`${dir}/expected/1.json`));
    assert.deepEqual(first, {
      matched: true,
      rules: ["big", "all"],
      deliveries: ["dest_big", "dest_all"].map((id) => ({
        destination_id: id,
        headers: { "content-type": "application/json" },
        key: "o1",
        body: {
          id: "o1",
          total: 150,
          processed_at: "2025-01-01T00:00:00.000Z",
          event_id: "evt_sample_1",
        },
      })),
    });
    const third = JSON.parse(await Deno.readTextFile(`${dir}/expected/3.json`));
    assert.deepEqual(third.dropped, {
      stage: "once",
      reason: 'duplicate key "o1" (first: evt_sample_1)',
    });
    const fourth = JSON.parse(await Deno.readTextFile(`${dir}/expected/4.json`));
    assert.match(fourth.dropped.reason, /expression total >= 0 is false/);

    const c = capture();
    assert.equal(await routeTestCommand(argv(dir), c.io), 0);
    assert.deepEqual(c.lines, ["4 sample(s): 4 passed, 0 failed"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("route test reports each mismatch with its path and exits 1", async () => {
  const dir = await workspace();
  try {
    assert.equal(await routeTestCommand(argv(dir, "--update"), capture().io), 0);
    const file = `${dir}/expected/2.json`;
    const exp = JSON.parse(await Deno.readTextFile(file));
    exp.deliveries[0].body.total = 6;
    exp.rules = ["big", "all"];
    await Deno.writeTextFile(file, JSON.stringify(exp));
    await Deno.remove(`${dir}/expected/4.json`);
    const c = capture();
    assert.equal(await routeTestCommand(argv(dir), c.io), 1);
    assert.deepEqual(c.lines, [
      'sample 2: rules[0]: expected "big", got "all"',
      'sample 2: rules[1]: expected "all", got (missing)',
      "sample 2: deliveries[0].body.total: expected 6, got 5",
      `sample 4: ${dir}/expected/4.json is missing (run with --update to create it)`,
      "4 sample(s): 2 passed, 2 failed",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("route test: usage, bad route and bad samples exit 1 with a message", async () => {
  const dir = await workspace();
  try {
    const u = capture();
    assert.equal(await routeTestCommand(["--route", "x.json"], u.io), 1);
    assert.equal(u.lines[0], "ERR --events is required");
    const unknown = capture();
    assert.equal(await routeTestCommand(["--nope"], unknown.io), 1);
    assert.equal(unknown.lines[0], 'ERR unknown argument "--nope"');

    await Deno.writeTextFile(`${dir}/route.json`, JSON.stringify({ pipeline: [{ type: "nope" }] }));
    const r = capture();
    assert.equal(await routeTestCommand(argv(dir), r.io), 1);
    assert.match(
      r.lines[0],
      /route\.json: invalid route: pipeline\[0\]: unknown stage type "nope"/,
    );

    await Deno.writeTextFile(`${dir}/route.json`, JSON.stringify(route));
    await Deno.writeTextFile(`${dir}/samples.jsonl`, '{"body": 1}\n{oops\n');
    const s = capture();
    assert.equal(await routeTestCommand(argv(dir), s.io), 1);
    assert.match(s.lines[0], /samples\.jsonl:2: not JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("route test: --now fixes the clock; enrich needs --network", async () => {
  const dir = await workspace();
  try {
    await Deno.writeTextFile(
      `${dir}/route.json`,
      JSON.stringify({
        pipeline: [
          { type: "transform", operations: [{ op: "date_now", to: "at" }] },
          { type: "enrich", url: "https://crm.example/x", on_error: "dead_letter" },
        ],
        destinations: [{ destination_id: "d" }],
      }),
    );
    await Deno.writeTextFile(`${dir}/samples.jsonl`, '{"body": {}}\n');
    assert.equal(
      await routeTestCommand(
        [...argv(dir, "--update"), "--now", "2024-02-03T04:05:06Z"],
        capture().io,
      ),
      0,
    );
    const g = JSON.parse(await Deno.readTextFile(`${dir}/expected/1.json`));
    assert.deepEqual(g.failed, {
      stage: "enrich#2",
      error: "enrich calls are disabled in route test; pass --network to allow them",
      policy: "dead_letter",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diffJson", () => {
  assert.deepEqual(diffJson({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }], c: null }), [
    "a[1].b: expected 2, got 3",
    "c: expected (missing), got null",
  ]);
  assert.deepEqual(diffJson("x", { x: 1 }), ['(root): expected "x", got {"x":1}']);
});
