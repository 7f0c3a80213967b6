export type { RemoteCallState, RemoteOperation } from './remote-call-state.js';
export {
  RemoteCallRejectedError,
  defineRemoteCall,
  type RemoteCall,
  type RemoteCallAnswer,
  type RemoteCallDefinition,
  type RemoteCallFunction,
} from './remote-call-definition.js';
export type { RemoteCallFilter, RemoteCallHistoryEntry, RemoteCallRecord } from './remote-call-repository.js';
export {
  RemoteCallTracker,
  type RemoteCallRequest,
  type RemoteCallResolution,
  type RemoteCallTrackerOptions,
} from './remote-call-tracker.js';
export {
  RemoteCallConsolidation,
  type ConsolidationReport,
  type LeakedObject,
  type RemoteCallConsolidationOptions,
  type RemoteObject,
  type StaleIntent,
} from './remote-call-consolidation.js';
export {
  RemoteCallSagaParticipant,
  remoteCallStep,
  type RemoteCallSagaParticipantOptions,
  type RemoteCallStep,
  type SagaReplyRoute,
  type SagaStepCallPayload,
} from './remote-call-saga-participant.js';
