/**
 * One instance of a service's timer runtime, as its own process, for the crash tests:
 * `timer-instance.ts <sqlite file> <instance id> <kind> <effects table> [pause ms]`. Every fire
 * records (timer id, instance) in the effects table in the firing transaction. With a pause,
 * the instance waits that long between claiming a batch and firing it, so a kill reliably finds
 * it holding leases. Prints "ready".
 */
import { DurableTimers, silentLogger } from '@concord/core';
import { openSqliteStore } from '../index.js';

const [filename, instanceId, kind, effects, pause] = process.argv.slice(2) as [string, string, string, string, string?];
const store = await openSqliteStore({ filename, logger: silentLogger });
const timers = new DurableTimers({ store, instanceId, leaseMs: 2_000, pollIntervalMs: 100, batchSize: 100, logger: silentLogger }).handle(
  kind,
  async (tx, timer) => {
    await tx.sql.execute(`INSERT INTO ${effects} (timer_id, fired_by, due_at, fired_at) VALUES (?, ?, ?, ?)`, [
      timer.id,
      instanceId,
      timer.dueAt,
      Date.now(),
    ]);
  },
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
if (pause) {
  const claimLoop = async () => {
    for (;;) {
      try {
        const claimed = await timers.claimDue();
        if (claimed.length === 0) await sleep(5);
        else await sleep(Number(pause));
        for (const timer of claimed) await timers.fire(timer);
      } catch (error) {
        // The database was busy past the driver's patience: try again, as the runtime's loop does.
        process.stderr.write(`timer instance ${instanceId}: ${(error as Error).message}\n`);
        await sleep(50);
      }
    }
  };
  claimLoop().catch((error: unknown) => {
    process.stderr.write(`timer instance ${instanceId}: ${String(error)}\n`);
    process.exit(1);
  });
} else timers.start();
process.stdout.write('ready\n');
// The parent holds our stdin: when it goes (test over, or parent died), so do we.
process.stdin.resume();
process.stdin.on('end', () => {
  timers
    .stop()
    .then(() => store.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
