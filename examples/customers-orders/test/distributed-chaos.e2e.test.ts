/**
 * The chaos campaign's 60-second variant, in `npm test`: the distributed demo on private
 * PostgreSQL and NATS servers under order load while service processes are SIGKILLed and
 * SIGSTOPped, both servers restarted, deliveries duplicated and reordered; then every
 * invariant (see chaos/invariants.ts). The full campaign is distributed-campaign.chaos.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runCampaign } from './chaos/campaign.js';

describe('distributed demo under faults for 60 s (PostgreSQL + NATS, private servers)', () => {
  it('keeps every invariant: sagas terminal or STUCK with a reason, credit conserved, view equal to its sources, nothing lost or twice', async () => {
    const result = await runCampaign({
      variant: 'postgres+nats',
      basePort: 19_100,
      loadMs: 60_000,
      processFaultEveryMs: 4_000,
      serverRestartEveryMs: 20_000,
      deliveryFaultProbability: 0.05,
    });
    console.log(result.line);
    expect(result.violations).toEqual([]);
    // The faults really happened (counts, not timings).
    expect(result.faults.kill + result.faults.stop).toBeGreaterThan(0);
    expect(result.faults['db-restart'] + result.faults['broker-restart']).toBeGreaterThan(0);
    expect(result.sagas).toBeGreaterThan(0);
  }, 900_000);
});
