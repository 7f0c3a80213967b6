/**
 * Thrown into whatever the crashed runtime was doing. Everything a crashed process had in
 * memory is gone; what it committed stays. The explorer then restarts the runtime.
 */
export class SimulatedCrash extends Error {
  constructor(readonly where: string) {
    super(`simulated crash: ${where}`);
    this.name = 'SimulatedCrash';
  }
}

/** True when `error` is, or was caused by, a simulated crash (consumers wrap errors they retry). */
export function isSimulatedCrash(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 10; depth++) {
    if (e instanceof SimulatedCrash) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
