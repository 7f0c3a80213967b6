import { describe, expect, it } from 'vitest';
import { formatReport, SagaExplorer } from './index.js';
import { paymentScenario } from '../examples/quickstart.js';

describe('SagaExplorer', () => {
  it('explores every boundary of a small saga exhaustively; all invariants hold', async () => {
    const report = await new SagaExplorer(paymentScenario({ receiptAfterCommit: true })).explore();
    expect(report.mode).toBe('exhaustive');
    expect(report.violation).toBeNull();
    expect(report.crashes).toBeGreaterThan(0);
    expect(formatReport(report)).toMatch(/^Payment: \d+ schedules \(exhaustive, 1 fault\(s\) per run\) over \d+ boundaries in \d+ ms; .* no violation$/);
  });

  it('with depth 2, adds a second fault at every later boundary of each one-fault run', async () => {
    const scenario = paymentScenario({ receiptAfterCommit: true });
    const faults = ['crash-before-commit', 'crash-after-commit', 'crash-after-publish'] as const;
    const one = await new SagaExplorer(scenario, { faults }).explore();
    const two = await new SagaExplorer(scenario, { faults, depth: 2 }).explore();
    expect(two.violation).toBeNull();
    expect(two.depth).toBe(2);
    // Every one-fault run adds at least one two-fault run (each run has boundaries after its fault).
    expect(two.explored).toBeGreaterThan(2 * one.explored);
  });

  it('finds a side effect made before the commit, with the crash that shows it', async () => {
    const explorer = new SagaExplorer(paymentScenario({ receiptAfterCommit: false }));
    const { violation } = await explorer.explore();
    expect(violation?.schedule).toMatch(/^crash-before-commit@\d+$/);
    expect(violation?.failures).toEqual([{ invariant: 'one receipt per debit', message: '2 receipts for 1 debit(s)' }]);
    expect((await explorer.replay(violation!.schedule)).violation).toEqual(violation);
  });

  it('samples combinations of faults from a seed, the same ones for the same seed', async () => {
    const options = { mode: 'sampled' as const, runs: 15, seed: 7, maxFaults: 3 };
    const first = await new SagaExplorer(paymentScenario({ receiptAfterCommit: true }), options).explore();
    const second = await new SagaExplorer(paymentScenario({ receiptAfterCommit: true }), options).explore();
    expect(first.violation).toBeNull();
    expect(first.explored).toBe(16);
    expect(first.seed).toBe(7);
    expect(second.faultsInjected).toEqual(first.faultsInjected);
    expect(second.crashes).toBe(first.crashes);
  });

  it('reports a run that does not settle instead of hanging', async () => {
    const scenario = paymentScenario({ receiptAfterCommit: true });
    const report = await new SagaExplorer(scenario, { maxSteps: 2 }).explore();
    expect(report.explored).toBe(1);
    expect(report.violation?.schedule).toBe('none');
    expect(report.violation?.failures[0]).toMatchObject({ invariant: 'the run completes', message: expect.stringMatching(/did not settle within 2/) });
  });

  it('refuses a schedule it cannot read', async () => {
    const explorer = new SagaExplorer(paymentScenario({ receiptAfterCommit: true }));
    await expect(explorer.replay('explode@3')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(explorer.replay('duplicate@3,delay@3')).rejects.toThrow(/two faults at boundary 3/);
  });
});
