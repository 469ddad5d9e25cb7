import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { classifyAwsError } from '../shared/errors.ts';

/**
 * What a conditional write did: it was written (with the item's new attributes when the write asked for them with
 * `ReturnValues: 'ALL_NEW'`), or its condition did not hold and nothing changed.
 */
export type ConditionalResult =
  | { readonly ok: true; readonly attributes?: Record<string, unknown> }
  | { readonly ok: false; readonly reason: 'condition-failed' };

/** The result of a write whose condition did not hold. */
export const CONDITION_FAILED: ConditionalResult = { ok: false, reason: 'condition-failed' };

/**
 * Sends a conditional PutItem, UpdateItem or DeleteItem. A condition that did not hold is a result, not an error:
 * DynamoDB answers ConditionalCheckFailedException and writes nothing (DynamoDB Developer Guide, "Condition
 * expressions"). Any other failure is thrown as the workflow error that says how to treat it.
 */
export async function conditionalWrite(
  db: DynamoDBDocumentClient,
  command: PutCommand | UpdateCommand | DeleteCommand,
): Promise<ConditionalResult> {
  try {
    // The three commands share the client's send; TypeScript cannot pick one overload for their union.
    const output = await db.send(command as PutCommand);
    const attributes = (output as { Attributes?: Record<string, unknown> }).Attributes;
    return attributes ? { ok: true, attributes } : { ok: true };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return CONDITION_FAILED;
    throw classifyAwsError(error);
  }
}
