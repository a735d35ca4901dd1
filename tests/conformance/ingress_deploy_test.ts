/** The ingress conformance suite against the deploy edge in front of a full node. */
import { EDGE_SECRET, ingressSuite } from "./ingress_suite.ts";
import { startEdge } from "../helpers/edge_process.ts";

ingressSuite("Deno Deploy edge", async (node) => {
  const edge = await startEdge("deploy", { fullNodeUrl: node.url, secret: EDGE_SECRET });
  return {
    url: edge.url,
    async close() {
      await edge.kill();
      await Deno.remove(edge.dir, { recursive: true }).catch(() => {});
    },
  };
});
