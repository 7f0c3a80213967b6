import { SagaActionNotAllowedError } from '../errors.js';
import type { SagaInstance } from './saga-instance.js';

/**
 * Manual actions apply to STUCK sagas only. A RUNNING or COMPENSATING saga has a command in
 * flight or a retry scheduled: aborting it would leave the steps it has not compensated yet
 * uncompensated, and resolving it would race the reply on its way. A final saga has nothing
 * left to act on.
 */
export function requireStuck(instance: Pick<SagaInstance, 'sagaId' | 'status'>, action: 'retry' | 'resolve' | 'abort'): void {
  if (instance.status !== 'STUCK') throw new SagaActionNotAllowedError(instance.sagaId, instance.status, action);
}
