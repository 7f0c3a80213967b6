import { ConcordErrorCode, isConcordError, type MessageRejectedError } from '../errors.js';
import type { Broker } from '../ports/broker.js';
import type { OutboxReader, OutboxRecord } from '../ports/store.js';

export interface PublishedOrParked {
  readonly published: OutboxRecord[];
  readonly parked: OutboxRecord[];
}

/**
 * Publishes records in one call; a message the broker refuses for good (`MessageRejectedError`,
 * raised before anything of the call is stored) is parked with the reason and the rest go
 * again without it (decision 009). Any other failure is thrown: the caller retries it all.
 */
export async function publishOrPark(
  broker: Broker,
  outbox: Pick<OutboxReader, 'park'>,
  records: readonly OutboxRecord[],
  onParked: (record: OutboxRecord, reason: string) => void,
): Promise<PublishedOrParked> {
  let rest = [...records];
  const parked: OutboxRecord[] = [];
  while (rest.length > 0) {
    try {
      await broker.publish(rest.map((r) => r.envelope));
      break;
    } catch (error) {
      if (!isConcordError(error, ConcordErrorCode.MESSAGE_REJECTED)) throw error;
      const rejected = rest.find((r) => r.envelope.id === (error as MessageRejectedError).messageId);
      if (!rejected) throw error;
      if (await outbox.park(rejected.position, error.message)) onParked(rejected, error.message);
      parked.push(rejected);
      rest = rest.filter((r) => r !== rejected);
    }
  }
  return { published: rest, parked };
}
