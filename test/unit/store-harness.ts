import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createStores, type Stores } from '../../functions/store/stores.ts';
import { ensureRegistryTable, startDynamo } from '../../local/dynamo.ts';

/** The registry's stores over an in-process dynalite table, set up before and torn down after the file's tests. */
export interface StoreEnv {
  db: DynamoDBDocumentClient;
  stores: Stores;
}

export function useStores(table: string): StoreEnv {
  const env = {} as StoreEnv;
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const dynamo = await startDynamo();
    await ensureRegistryTable(dynamo.endpoint, table);
    env.db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: dynamo.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      { marshallOptions: { removeUndefinedValues: true } },
    );
    env.stores = createStores(env.db, table);
    close = async () => {
      env.db.destroy();
      await dynamo.close();
    };
  });
  afterAll(() => close());
  return env;
}
