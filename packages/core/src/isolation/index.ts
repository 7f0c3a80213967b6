export { ResourceLockedError, LockWaitRequired, isResourceLockedError } from './lock-errors.js';
export {
  SemanticLocks,
  SAGA_STARTED_AT_HEADER,
  lockOwnerOf,
  type HeldLock,
  type LockOwner,
  type LockWait,
  type OnLocked,
} from './semantic-locks.js';
export { DeadlockDetector, type DeadlockDetectorOptions } from './deadlock-detector.js';
export { lockGraphSource, type LockGraphSource } from './lock-graph-source.js';
export { findWaitCycles, type WaitCycle, type WaitEdge } from './waits-for-graph.js';
export { isolationMigrations, sagaExtensionMigrations } from './isolation-schema.js';
