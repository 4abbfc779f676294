/** Wires the DynamoDB adapters into the core's Storage port. */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Storage } from "../core/ports.js";
import { createDynamoCompactionStore } from "./compaction-store.js";
import { createDynamoConsumerInstanceStore } from "./consumer-instance-store.js";
import { createDynamoGroupStore } from "./group-store.js";
import { createDynamoHistoryStore } from "./history-store.js";
import { createDynamoLogStore } from "./log-store.js";
import { createDynamoOffsetStore } from "./offset-store.js";
import { createDynamoProducerStore } from "./producer-store.js";
import { createDynamoStagedTransactionStore } from "./staged-transaction-store.js";
import { createDynamoSubscriptionStore } from "./subscription-store.js";
import type { TableNames } from "./tables.js";
import { createDynamoTransactionStore } from "./transaction-store.js";
import { createDynamoTopicStore } from "./topic-store.js";

export function createDynamoStorage(client: DynamoDBClient, tables: TableNames): Storage {
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
    unmarshallOptions: { wrapNumbers: false },
  });
  const producers = createDynamoProducerStore(documents, tables);
  return {
    topics: createDynamoTopicStore(documents, tables),
    log: createDynamoLogStore(documents, tables),
    compaction: createDynamoCompactionStore(documents, tables),
    producers,
    offsets: createDynamoOffsetStore(documents, tables),
    transactions: createDynamoTransactionStore(documents, tables, producers),
    staged: createDynamoStagedTransactionStore(documents, tables),
    groups: createDynamoGroupStore(documents, tables),
    consumerInstances: createDynamoConsumerInstanceStore(documents, tables),
    subscriptions: createDynamoSubscriptionStore(documents, tables),
    history: createDynamoHistoryStore(documents, tables),
  };
}
