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
export { BoundedCounter, BoundExceededError, type BoundedCounterOptions } from './bounded-counter.js';
export { RereadValue, StaleVersionError, type VersionedTable } from './reread-value.js';
export {
  VersionFile,
  type RecordedOperation,
  type VersionFileOptions,
  type VersionFileResult,
} from './version-file.js';
export { byValue, type ByValueRule } from './by-value.js';
export { pessimisticView } from './pessimistic-view.js';
