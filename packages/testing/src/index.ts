export { SagaExplorer, exhaustiveSchedules, formatReport, formatViolation } from './saga-explorer.js';
export type { ExplorationReport, ExploreOptions, Violation } from './saga-explorer.js';
export type { Invariant, InvariantContext, SagaScenario, ServiceEnv } from './saga-scenario.js';
export { FAULTS_AT, formatSchedule, parseSchedule, type Boundary, type BoundaryKind, type Fault, type FaultKind, type Schedule } from './fault-schedule.js';
export type { InvariantFailure, RunResult } from './saga-run.js';
export { SimulatedCrash, isSimulatedCrash } from './simulated-crash.js';
export { VirtualClock } from './virtual-clock.js';
export { ScheduledBroker } from './scheduled-broker.js';
export { FaultInjectingDriver } from './fault-injecting-driver.js';
