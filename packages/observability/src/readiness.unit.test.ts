import { describe, expect, it } from 'vitest';
import { Readiness } from './readiness.js';

describe('Readiness', () => {
  it('is ready when every probe answers, and names the one that fails or hangs', async () => {
    const ok = await new Readiness().add('store', async () => 1).add('relay', () => undefined).check();
    expect(ok.ready).toBe(true);
    expect(Object.keys(ok.checks)).toEqual(['store', 'relay']);

    const hanging = new Promise(() => {});
    const report = await new Readiness({ timeoutMs: 50 })
      .add('store', () => hanging)
      .add('broker', () => {
        throw new Error('connection refused');
      })
      .add('relay', () => true)
      .check();
    expect(report.ready).toBe(false);
    expect(report.checks.store).toMatchObject({ ok: false, error: 'no answer within 50 ms' });
    expect(report.checks.broker).toMatchObject({ ok: false, error: 'connection refused' });
    expect(report.checks.relay).toMatchObject({ ok: true });
  });
});
