export { DurableTimers, type DurableTimersOptions, type FiredTimer, type TimerHandler, type TimerRoundStats } from './durable-timers.js';
export { TimerRepository, TimerStatus, type ClaimedTimer, type NewTimer, type TimerListFilter, type TimerView } from './timer-repository.js';
export { timerMigrations } from './timer-schema.js';
