export { DurableTimers, type DurableTimersOptions, type FiredTimer, type TimerHandler, type TimerRoundStats } from './durable-timers.js';
export { TimerStatus, type TimerListFilter, type TimerView } from './timer-repository.js';
