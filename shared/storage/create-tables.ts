/**
 * Creates the broker's tables where they are missing — for DynamoDB Local and tests. On AWS the
 * CDK stack creates them from the same definitions.
 */
import { CreateTableCommand, DescribeTableCommand, UpdateTimeToLiveCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { TABLE_IDS, TABLES, createTableInput, type TableNames } from "./tables.js";

export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  await Promise.all(
    TABLE_IDS.map(async (id) => {
      const definition = TABLES[id];
      const name = names[id];
      try {
        await client.send(new DescribeTableCommand({ TableName: name }));
        return;
      } catch (error) {
        if (!(error instanceof Error && error.name === "ResourceNotFoundException")) throw error;
      }
      try {
        await client.send(new CreateTableCommand(createTableInput(definition, name)));
      } catch (error) {
        if (!(error instanceof Error && error.name === "ResourceInUseException")) throw error;
      }
      if (definition.ttlAttribute) {
        await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true } }));
      }
    }),
  );
}
