import type { AuditEvent } from './state.ts';

/** The EventBridge event that carries a CloudTrail record, as AWS delivers it to rules on the default bus. */
export interface CloudTrailEventBridgeEvent {
  version: '0';
  id: string;
  'detail-type': 'AWS API Call via CloudTrail' | 'AWS Service Event via CloudTrail';
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Omit<AuditEvent, 'sequence'>;
}

export function toEventBridgeEvent(event: AuditEvent): CloudTrailEventBridgeEvent {
  const { sequence: _sequence, ...detail } = event;
  return {
    version: '0',
    id: event.eventID,
    'detail-type':
      event.eventType === 'AwsServiceEvent'
        ? 'AWS Service Event via CloudTrail'
        : 'AWS API Call via CloudTrail',
    source: `aws.${event.eventSource.split('.')[0]}`,
    account: event.recipientAccountId,
    time: event.eventTime,
    region: event.awsRegion,
    resources: [],
    detail,
  };
}

/** CloudTrail writes parameters in lowerCamelCase and leaves secrets out. */
export function cloudTrailShape(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(cloudTrailShape);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !SECRET_KEYS.has(key))
        .map(([key, entry]) => [key.charAt(0).toLowerCase() + key.slice(1), cloudTrailShape(entry)]),
    );
  }
  return value;
}

const SECRET_KEYS = new Set(['SecretAccessKey', 'SessionToken', 'TokenCode']);
