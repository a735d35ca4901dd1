/** End-to-end through the cloudflare edge (see edge_scenarios.ts). */
import { edgeEndToEnd } from "./edge_scenarios.ts";

edgeEndToEnd("cloudflare");
