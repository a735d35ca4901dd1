import jsonata from "jsonata";
import { kibEvent } from "./pipeline_bench.ts";
const raw = new TextDecoder().decode(kibEvent(1));
const e = jsonata("$sum(items.qty)", { timeout: 1000, stack: 500, sequence: 100000 });
const run = async (label: string, mk: () => [unknown, Record<string, unknown>]) => {
  const t = performance.now();
  for (let i = 0; i < 10000; i++) {
    const [b, bind] = mk();
    await e.evaluate(b, bind);
  }
  return [label, Math.round(10000 / ((performance.now() - t) / 1000))];
};
const fixed = JSON.parse(raw);
for (let k = 0; k < 3; k++) {
  console.log(
    await run("fixed", () => [fixed, { event: {}, headers: {}, meta: {} }]),
    await run("fresh", () => [JSON.parse(raw), { event: {}, headers: {}, meta: {} }]),
    await run("fresh+clone", () => [structuredClone(JSON.parse(raw)), {}]),
    await run("frozen-view", () => {
      const b = JSON.parse(raw);
      return [b, { event: Object.freeze({ body: b, headers: {} }), headers: {}, meta: {} }];
    }),
  );
}
