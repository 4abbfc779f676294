/** The construct's DynamoDB tables, from the definitions the local setup uses too (shared/storage/tables.ts). */
import type { RemovalPolicy } from "aws-cdk-lib";
import { AttributeType, BillingMode, Table } from "aws-cdk-lib/aws-dynamodb";
import type { Construct } from "constructs";
import { TABLES, TABLE_IDS, type TableId } from "../shared/storage/tables.js";
import type { DynalogBilling } from "./dynalog-props.js";
import { capitalize } from "./function-factory.js";
import { LOG_TABLE_STREAM_VIEW_TYPE } from "./log-stream.js";

export function createDynalogTables(scope: Construct, billing: DynalogBilling, removalPolicy: RemovalPolicy, deletionProtection: boolean): Record<TableId, Table> {
  const tables = {} as Record<TableId, Table>;
  for (const id of TABLE_IDS) {
    const definition = TABLES[id];
    const key = (k: { name: string; type: "S" | "N" }) => ({ name: k.name, type: k.type === "S" ? AttributeType.STRING : AttributeType.NUMBER });
    tables[id] = new Table(scope, `${capitalize(id)}Table`, {
      partitionKey: key(definition.partitionKey),
      ...(definition.sortKey && { sortKey: key(definition.sortKey) }),
      ...(billing.mode === "on-demand"
        ? { billingMode: BillingMode.PAY_PER_REQUEST }
        : { billingMode: BillingMode.PROVISIONED, readCapacity: billing.readCapacity, writeCapacity: billing.writeCapacity }),
      ...(definition.ttlAttribute && { timeToLiveAttribute: definition.ttlAttribute }),
      // The log's stream wakes its consumers (infra/log-stream.ts: one view type for all).
      ...(id === "log" && { stream: LOG_TABLE_STREAM_VIEW_TYPE }),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection,
      removalPolicy,
    });
  }
  return tables;
}
