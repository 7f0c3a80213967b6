export { describeStoreConformance, type StoreUnderTest } from './store-conformance.js';
export { describeBrokerConformance, testEnvelope, type BrokerUnderTest } from './broker-conformance.js';
export { describeMessagingConformance, type MessagingUnderTest } from './messaging-conformance.js';
export { counterEvent, counterSchema, type CounterPayload } from './test-messages.js';
export { eventually, uniqueName } from './wait.js';
export { serviceAvailable, services, type ServiceCheck } from './services.js';
export { describeSagaConformance, type SagaUnderTest } from './saga-conformance.js';
export { describeTimerConformance, ManualClock, type TimersUnderTest } from './timer-conformance.js';
export { describeReservationConformance } from './reservation-conformance.js';
