/**
 * What the source adapter tests (tests/integration/sources/) do the same way on top of the
 * source harness: read an event's JSON body, run one manual poll, read a config's issues.
 */
import type { SourceFactory } from "../../core/ports.ts";
import type { StoredEvent } from "../../core/store.ts";
import type { SourceHarness } from "./source_harness.ts";

const dec = new TextDecoder();

/** A stored event's body as the JSON the source emitted. */
export const bodyOf = (e: StoredEvent) => JSON.parse(dec.decode(e.body));

/**
 * One manual run ("Run now") of a new source instance for trigger `id`: a new instance on
 * the harness's saved cursor is also how these tests "restart the node".
 */
export function pollOnce<C>(
  h: SourceHarness,
  factory: SourceFactory<C>,
  config: unknown,
  id: string,
) {
  return h.create(factory, config, id).source.poll!(new AbortController().signal);
}

/** The validation issues of `config` as one JSON string, "" when the factory accepts it. */
export function configIssues<C>(factory: SourceFactory<C>, config: unknown): string {
  try {
    factory.parseConfig(config);
    return "";
  } catch (e) {
    return JSON.stringify((e as { issues: unknown }).issues);
  }
}
