/** The README's trigger examples are valid bodies: the API accepts each one as written. */
import assert from "node:assert/strict";
import { harness } from "../helpers/app.ts";
import { createRoute, expectJson } from "./_helpers.ts";

const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
const section = readme.split("<!-- triggers:start -->")[1]?.split("<!-- triggers:end -->")[0] ?? "";
const examples = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]));

Deno.test("README trigger examples: one per type, each accepted by the API", async () => {
  assert.deepEqual(examples.map((e) => e.type), [
    "polling",
    "schedule",
    "imap",
    "caldav",
    "carddav",
    "rabbitmq",
    "kafka",
    "redis",
    "sqs",
    "pubsub",
  ]);
  const h = await harness();
  try {
    const { token } = await h.tenant("readme");
    const route = await createRoute(h, token);
    for (const example of examples) {
      const t = await expectJson(
        h.call("POST", "/api/triggers", { ...example, route_id: route.id }, token),
        201,
      );
      assert.equal(t.type, example.type);
    }
  } finally {
    await h.close();
  }
});
