import type { SqlStoreTransaction } from '../sql/sql-store.js';
import type { SagaDefinition, StepDefinition } from './saga-definition.js';
import type { SagaInstance } from './saga-instance.js';
import { sagaEndedMessage } from './saga-messages.js';

const channelsOf = new WeakMap<SagaDefinition<unknown>, readonly string[]>();

function stepChannels(step: StepDefinition<unknown>): string[] {
  const own = [step.invoke?.command.channel, step.compensate?.invoke?.command.channel].filter(
    (c): c is string => !!c,
  );
  return [...own, ...(step.branches ?? []).flatMap(stepChannels)];
}

/** Every channel a saga of this definition may send commands to. */
export function commandChannels(definition: SagaDefinition<unknown>): readonly string[] {
  let channels = channelsOf.get(definition);
  if (!channels) {
    channels = [...new Set(definition.steps.flatMap(stepChannels))].sort();
    channelsOf.set(definition, channels);
  }
  return channels;
}

/**
 * Tells every participant the saga spoke to that it is over, in the saga's final transition:
 * the participants release its semantic locks. Through the outbox, so a crash cannot lose it.
 */
export async function announceSagaEnd(
  tx: SqlStoreTransaction<unknown>,
  definition: SagaDefinition<unknown>,
  saga: SagaInstance,
): Promise<void> {
  for (const channel of commandChannels(definition)) {
    await tx.outbox.send(sagaEndedMessage(channel), { sagaId: saga.sagaId, status: saga.status });
  }
}
