import { MemoryState } from "../../../core/pipeline/memory_state.ts";
import { aggregateStateSuite } from "./aggregate_state_suite.ts";

aggregateStateSuite("MemoryState", (now) => new MemoryState(now));
