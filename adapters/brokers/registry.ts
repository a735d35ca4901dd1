/**
 * Every destination type this node can deliver to: one import and one line per broker.
 * Adding a broker = a folder under adapters/brokers/, a line here, and its run of the shared
 * publisher suite (tests/conformance/publisher_suite.ts) against the real server.
 */
import type { PublisherFactory } from "../../core/ports.ts";
import { httpPublisherFactory } from "./http/publisher.ts";
import { logPublisherFactory } from "./log/publisher.ts";
import { createFilePublisherFactory, filePublisherFactory } from "./file/publisher.ts";
import { rabbitmqPublisherFactory } from "./rabbitmq/publisher.ts";
import { kafkaPublisherFactory } from "./kafka/publisher.ts";
import { redisPublisherFactory } from "./redis/publisher.ts";
import { sqsPublisherFactory, tenantSqsPublisherFactory } from "./sqs/publisher.ts";
import { snsPublisherFactory, tenantSnsPublisherFactory } from "./sns/publisher.ts";
import { pubsubPublisherFactory, tenantPubsubPublisherFactory } from "./pubsub/publisher.ts";

export const PUBLISHERS: Record<string, PublisherFactory> = {
  http: httpPublisherFactory as PublisherFactory,
  log: logPublisherFactory as PublisherFactory,
  file: filePublisherFactory as PublisherFactory,
  rabbitmq: rabbitmqPublisherFactory as PublisherFactory,
  kafka: kafkaPublisherFactory as PublisherFactory,
  redis: redisPublisherFactory as PublisherFactory,
  sqs: sqsPublisherFactory as PublisherFactory,
  sns: snsPublisherFactory as PublisherFactory,
  pubsub: pubsubPublisherFactory as PublisherFactory,
};

/**
 * What differs for destinations not owned by an admin: `file` stays inside `filesRoot`, and
 * the cloud types must bring their own credentials instead of using the node's.
 */
export function tenantPublishers(opts: { filesRoot: string }): Record<string, PublisherFactory> {
  return {
    file: createFilePublisherFactory({ root: opts.filesRoot }) as PublisherFactory,
    sqs: tenantSqsPublisherFactory as PublisherFactory,
    sns: tenantSnsPublisherFactory as PublisherFactory,
    pubsub: tenantPubsubPublisherFactory as PublisherFactory,
  };
}
