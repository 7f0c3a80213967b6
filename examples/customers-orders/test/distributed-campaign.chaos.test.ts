/**
 * `npm run test:chaos`: the full chaos campaign. The distributed demo (two processes per
 * service and the gateway) on private servers, PostgreSQL + NATS, then MariaDB + RabbitMQ and
 * PostgreSQL + Redis, each under a steady order load while service processes are SIGKILLed and
 * SIGSTOPped, the database and the broker restarted, deliveries duplicated and reordered. Then
 * the invariants (chaos/invariants.ts). One summary line per variant and one for the campaign.
 * CONCORD_CHAOS_LOAD_SECONDS sets the load phase of each variant (defaults below);
 * CONCORD_CHAOS_VARIANTS=postgres+redis,… runs only those.
 */
import { describe, expect, it } from 'vitest';
import { runCampaign, type CampaignResult, type Variant } from './chaos/campaign.js';

const seconds = Number(process.env.CONCORD_CHAOS_LOAD_SECONDS ?? 0);
const variants: Array<{ variant: Variant; basePort: number; loadMs: number }> = [
  { variant: 'postgres+nats', basePort: 19_000, loadMs: (seconds || 240) * 1_000 },
  { variant: 'mariadb+rabbitmq', basePort: 19_020, loadMs: (seconds || 180) * 1_000 },
  { variant: 'postgres+redis', basePort: 19_040, loadMs: (seconds || 180) * 1_000 },
];
const only = process.env.CONCORD_CHAOS_VARIANTS?.split(',');
const chosen = variants.filter((v) => !only || only.includes(v.variant));
const results: CampaignResult[] = [];

describe('chaos campaign: the distributed demo under process, server and delivery faults', () => {
  for (const v of chosen) {
    it(`${v.variant}: every invariant holds after the faults`, async () => {
      const result = await runCampaign({
        ...v,
        processFaultEveryMs: 4_000,
        serverRestartEveryMs: 25_000,
        deliveryFaultProbability: 0.05,
      });
      results.push(result);
      console.log(result.line);
      expect(result.violations).toEqual([]);
      expect(result.faults.kill * result.faults.stop * result.faults['db-restart'] * result.faults['broker-restart']).toBeGreaterThan(0);
    }, 1_800_000);
  }

  it('prints the campaign summary', () => {
    const total = (k: keyof CampaignResult['faults']) => results.reduce((s, r) => s + r.faults[k], 0);
    const kinds = (['kill', 'stop', 'db-restart', 'broker-restart', 'duplicate', 'reorder'] as const).map((k) => `${k}=${total(k)}`).join(' ');
    const sagas = results.reduce((s, r) => s + r.sagas, 0);
    const violations = results.reduce((s, r) => s + r.violations.length, 0);
    console.log(`chaos campaign (${results.map((r) => r.variant).join(', ')}): sagas=${sagas} faults: ${kinds} violations=${violations}`);
    expect(results).toHaveLength(chosen.length);
  });
});
