import { expect, it } from 'vitest';
import { formatReport, formatViolation, SagaExplorer } from '@concord/testing';
import { createOrderScenario } from './create-order-scenario.js';

it('CreateOrder survives every pair of crashes (a crash, then another at any later boundary, recovery included)', async () => {
  const report = await new SagaExplorer(createOrderScenario(), {
    mode: 'exhaustive',
    depth: 2,
    faults: ['crash-before-commit', 'crash-after-commit', 'crash-after-publish'],
  }).explore();
  console.log(formatReport(report));
  expect(report.violation && formatViolation(report.violation)).toBeNull();
  expect(report.explored).toBeGreaterThan(report.boundaries * 10);
}, 600_000);

it('CreateOrder survives 300 seeded runs of up to three faults of every kind', async () => {
  const report = await new SagaExplorer(createOrderScenario(), { mode: 'sampled', runs: 300, seed: 42, maxFaults: 3 }).explore();
  console.log(formatReport(report));
  expect(report.violation && formatViolation(report.violation)).toBeNull();
  expect(report.explored).toBe(301);
}, 600_000);
