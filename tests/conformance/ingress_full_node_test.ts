/** The ingress conformance suite against the full node itself. */
import { ingressSuite } from "./ingress_suite.ts";

ingressSuite(
  "full node",
  (node) => Promise.resolve({ url: node.url, close: () => Promise.resolve() }),
);
