/** What a compiled stage is and what it can answer. */
import type { Chosen } from "../../routing/select.ts";
import type { OpEnv } from "../ops/op.ts";
import type { Working } from "../ref.ts";
import type { ErrorPolicy, PipelineDeps } from "../types.ts";

export type StageType = "transform" | "validate" | "enrich" | "aggregate";

export interface StageContext {
  deps: PipelineDeps;
  env: OpEnv;
  routeId: string;
  /** "route" or the destination id owning the stage. */
  scope: string;
  /** The destinations the event goes to from here (stored with held aggregates). */
  targets: readonly Chosen[];
  /** Destination id of each route `destinations` entry, by index. */
  entryIds: readonly string[];
}

export type StageResult =
  | { kind: "continue"; note?: string }
  | { kind: "drop"; reason: string }
  | { kind: "reject"; reason: string }
  | { kind: "dead_letter"; reason: string }
  | { kind: "held"; note: string }
  /** An aggregate emitted now (a full batch); commit after its deliveries are stored. */
  | { kind: "emit"; note: string; commit?: () => Promise<void> };

export interface CompiledStage {
  name: string;
  type: StageType;
  /** Position in its pipeline. */
  index: number;
  onError: ErrorPolicy;
  /** May change the body (so the raw bytes can no longer be forwarded as received). */
  reshapes: boolean;
  run(w: Working, ctx: StageContext): StageResult | Promise<StageResult>;
}

export const CONTINUE: StageResult = { kind: "continue" };
