/** End-to-end through the deploy edge (see edge_scenarios.ts). */
import { edgeEndToEnd } from "./edge_scenarios.ts";

edgeEndToEnd("deploy");
