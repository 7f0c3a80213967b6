export {
  defineCommand,
  type CommandDefinition,
  type CommandDefinitionOptions,
  type CommandInvocation,
  type RepliesOf,
  type ReplyBuilder,
  type ReplyPayload,
  type ReplySchemas,
  type ReplyToken,
} from './command-definition.js';
export {
  defineSaga,
  fail,
  SagaBuilder,
  SagaDefinitionError,
  type Compensation,
  type FailAction,
  type InvokeStepInput,
  type LocalStepInput,
  type OnReply,
  type SagaDefinition,
  type StepDefinition,
  type StepKind,
} from './saga-definition.js';
export {
  FINAL_STATUSES,
  SagaStatus,
  type SagaAction,
  type SagaDirection,
  type SagaHistoryEntry,
  type SagaHistoryEvent,
  type SagaInstance,
  type SagaView,
} from './saga-instance.js';
export { SagaOrchestrator, type ManualActionOptions, type SagaOrchestratorOptions } from './saga-orchestrator.js';
export { SagaParticipant, type CommandHandler, type SagaParticipantOptions } from './saga-participant.js';
export { ParticipantBarrier, type BarrierDecision } from './participant-barrier.js';
export { NULL_COMPENSATION_REPLY, SAGA_FINISHED_TYPE, SAGA_REPLY_TYPE, type SagaFinishedPayload, type SagaReplyPayload } from './saga-messages.js';
export type { SagaListFilter } from './saga-repository.js';
