import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatReport, formatViolation, SagaExplorer } from '@concord/testing';
import { BuggyCustomerService } from './buggy-customer-service.js';
import { createOrderScenario } from './create-order-scenario.js';

describe('the crash-point explorer on the demo CreateOrder saga', () => {
  it('explores every fault at every boundary of CreateOrder, and every invariant holds', async () => {
    const report = await new SagaExplorer(createOrderScenario(), { mode: 'exhaustive' }).explore();
    console.log(formatReport(report));
    expect(report.violation && formatViolation(report.violation)).toBeNull();
    expect(report.boundaries).toBeGreaterThan(10);
    // Two crash faults per commit and publish boundary... every boundary got each of its faults.
    expect(report.explored).toBeGreaterThan(2 * report.boundaries);
    expect(report.faultsInjected['crash-before-commit']).toBeGreaterThan(0);
    expect(report.faultsInjected['crash-after-commit']).toBeGreaterThan(0);
    expect(report.faultsInjected['crash-after-publish']).toBeGreaterThan(0);
    expect(report.crashes).toBeGreaterThan(0);
  });

  it('finds the bug planted in a copy of the customer participant and prints a schedule that replays it', async () => {
    const explorer = new SagaExplorer(createOrderScenario((o) => new BuggyCustomerService(o)), { mode: 'exhaustive' });
    const report = await explorer.explore();
    console.log(formatReport(report));
    expect(report.violation).not.toBeNull();
    const violation = report.violation!;
    console.log(formatViolation(violation));
    expect(violation.schedule).toMatch(/^crash-after-commit@\d+$/);
    expect(violation.failures.map((f) => f.invariant)).toContain('an order is APPROVED exactly when its credit is reserved');
    expect(violation.trace.find((line) => line.includes('<== crash-after-commit'))).toMatch(/commit in customers \(deliver customer\.ReserveCredit to customer-service\)/);

    // The printed schedule replays exactly: same boundaries, same failures.
    const again = await explorer.replay(violation.schedule);
    expect(again.violation?.failures).toEqual(violation.failures);
    expect(again.violation?.trace).toEqual(violation.trace);
    // And without the fault the copy looks fine: only the crash shows the bug.
    expect((await explorer.replay('none')).violation).toBeNull();
  });
});

it('docs/testing-your-sagas.md quotes the tested scenario word for word', () => {
  const source = readFileSync(new URL('./create-order-scenario.ts', import.meta.url), 'utf8');
  const region = /\/\/ #region scenario\n([\s\S]*?)\/\/ #endregion scenario/.exec(source)![1]!;
  expect(readFileSync(new URL('../../../docs/testing-your-sagas.md', import.meta.url), 'utf8')).toContain(region.trim());
});
