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
  SagaBuilder,
  SagaDefinitionError,
  type AnySagaDefinition,
  type AnyTransaction,
  type Compensation,
  type LocalAction,
  type LocalCompensation,
  type ReplyAction,
  type ReplyHandler,
  type InvokeStepInput,
  type LocalStepInput,
  type OnReply,
  type SagaDefinition,
  type SagaDefinitionFor,
  type SagaDefinitionOptions,
  type SagaInputOf,
  type StepCompensation,
  type StepDefinition,
  type StepKind,
} from './saga-definition.js';
export { fail, ok, type FailAction, type OkAction, type SagaFailureCode, type SagaFailureReason } from './saga-failure.js';
export { StepGroupBuilder, type InvokeBranchInput, type LocalBranchInput } from './step-group.js';
export { deferredReplyId, type DeferredReply, type PendingReply } from './deferred-replies.js';
export { commandChannels } from './saga-ended.js';
export {
  FINAL_STATUSES,
  SagaStatus,
  type SagaAction,
  type SagaDirection,
  type SagaHistoryEntry,
  type SagaHistoryEvent,
  type SagaInstance,
  type SagaInstanceOf,
  type SagaView,
  type SagaViewOf,
} from './saga-instance.js';
export { SagaOrchestrator, type ManualActionOptions, type SagaOrchestratorOptions } from './saga-orchestrator.js';
export { SagaParticipant, type CommandHandler, type ParticipantReplies, type SagaParticipantOptions } from './saga-participant.js';
export { ParticipantBarrier, type BarrierDecision } from './participant-barrier.js';
export { versionedReply, replyVersionOf, upcastReplyBody, ReplyVersionError, type VersionedReplySchema } from './reply-versions.js';
export {
  DEADLOCK_REPLY,
  NULL_COMPENSATION_REPLY,
  RESOURCE_LOCKED_REPLY,
  SAGA_REPLY_TYPE,
  sagaEndedMessage,
  type SagaEndedPayload,
  type SagaReplyPayload,
} from './saga-messages.js';
export type { SagaListFilter } from './saga-repository.js';
export { stepsFingerprint, stepsShape } from './saga-definition-version.js';
export { SagaVersionNotRegisteredError, type UnregisteredSagaVersion } from './saga-versions.js';
export { sagaVersionMigrations } from './saga-version-schema.js';
export type { SagaStore } from './saga-store.js';
