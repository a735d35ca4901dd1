/**
 * Every trigger (source) type this node can run: one import and one line per type, like
 * adapters/brokers/registry.ts. Adding a source = a folder under adapters/sources/<type>/
 * (config.ts + source.ts), a line here, and its run of the shared source conformance suite
 * against the real server.
 */
import type { SourceFactory } from "../../core/ports.ts";
import { caldavSourceFactory } from "./caldav/source.ts";
import { carddavSourceFactory } from "./carddav/source.ts";
import { imapSourceFactory } from "./imap/source.ts";
import { kafkaSourceFactory } from "./kafka/source.ts";
import { pollingSourceFactory } from "./polling/source.ts";
import { pubsubSourceFactory, tenantPubsubSourceFactory } from "./pubsub/source.ts";
import { rabbitmqSourceFactory } from "./rabbitmq/source.ts";
import { redisSourceFactory } from "./redis/source.ts";
import { scheduleSourceFactory } from "./schedule/source.ts";
import { sqsSourceFactory, tenantSqsSourceFactory } from "./sqs/source.ts";

export const SOURCES: Record<string, SourceFactory> = {
  caldav: caldavSourceFactory as SourceFactory,
  carddav: carddavSourceFactory as SourceFactory,
  imap: imapSourceFactory as SourceFactory,
  kafka: kafkaSourceFactory as SourceFactory,
  polling: pollingSourceFactory as SourceFactory,
  pubsub: pubsubSourceFactory as SourceFactory,
  rabbitmq: rabbitmqSourceFactory as SourceFactory,
  redis: redisSourceFactory as SourceFactory,
  schedule: scheduleSourceFactory as SourceFactory,
  sqs: sqsSourceFactory as SourceFactory,
};

/**
 * What differs for triggers not owned by an admin (as for destinations): the cloud types must
 * bring their own credentials instead of consuming with the node's.
 */
export const TENANT_SOURCES: Record<string, SourceFactory> = {
  sqs: tenantSqsSourceFactory as SourceFactory,
  pubsub: tenantPubsubSourceFactory as SourceFactory,
};
