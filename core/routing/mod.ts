/**
 * Routing: conditions over an event, the seed `filters` shorthand, and destination selection
 * (fan-out, priority, weighted split, fallback). Runtime-agnostic.
 */
export * from "./schema.ts";
export { compileCondition, type Predicate } from "./condition.ts";
export { compileFilters } from "./filters.ts";
export { compileRules } from "./rules.ts";
export {
  byPriority,
  chooseTargets,
  type Chosen,
  inferSelect,
  type IsOpen,
  pickWeighted,
  type RuleTrace,
  selectDestinations,
  type SelectingRule,
  type Selection,
  type TargetEntry,
} from "./select.ts";
export { bodyText, compileField, type RoutingEvent } from "./event.ts";
export { compileSafeRegex, MAX_INPUT, RegexSyntaxError, type SafeRegex } from "./safe_regex.ts";
export { parseCidr, parseIp } from "./cidr.ts";
export { deletePath, getAll, getPath, parsePath, setPath, WILDCARD } from "./json_path.ts";
export { deepEqual } from "./deep_equal.ts";
export { hash32, unitHash } from "./hash.ts";
