import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueName } from '@concord/core/testing';
import { newBuild, oldBuild } from './testing/saga-deploy-contracts.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'concord-saga-deploy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one deployment (old or new code) as a process of its own on the shared SQLite files. */
function deploy(role: 'old' | 'new-alone' | 'new', prefix: string, count: number): Record<string, unknown> {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=development', join(here, 'testing', 'saga-deploy-process.ts'), role, dir, prefix, String(count)],
    { encoding: 'utf8', timeout: 90_000 },
  );
  expect(child.status, child.stderr).toBe(0);
  const last = child.stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as Record<string, unknown>;
}

describe('a deployment that changes a saga and a message while sagas are in flight (two processes, SQLite files)', () => {
  it('every saga finishes on the definition it started with; new code without the old definition refuses to start', () => {
    const prefix = uniqueName('deploy');
    const count = 8;
    const { placeOrder: oldSaga } = oldBuild(prefix);
    const { placeOrder: newSaga, placeOrderBefore } = newBuild(prefix);
    // The kept copy of the old definition fingerprints the same as the old build's own.
    expect(placeOrderBefore.version).toBe(oldSaga.version);
    expect(newSaga.version).not.toBe(oldSaga.version);

    // Old code starts sagas and goes away while they wait for stock.
    expect(deploy('old', prefix, count)).toEqual({ version: oldSaga.version });

    // New code that dropped the old definition is refused, with the sagas it would break.
    const refused = deploy('new-alone', prefix, count) as { started: boolean; code: string; unregistered: unknown[] };
    expect(refused.started).toBe(false);
    expect(refused.code).toBe('SAGA_VERSION_NOT_REGISTERED');
    expect(refused.unregistered).toEqual([
      { sagaType: 'PlaceOrder', version: oldSaga.version, count, sagaIds: Array.from({ length: count }, (_, i) => `old-${i}`) },
    ]);

    // New code with the old definition kept finishes the old sagas and runs new ones on the new steps.
    const after = deploy('new', prefix, count) as {
      reserveVersions: number[];
      sagas: Array<{ sagaId: string; status: string; definitionVersion: string; data: { trail: string[]; warehouse: string } }>;
    };
    expect(after.sagas).toHaveLength(2 * count);
    for (const saga of after.sagas) {
      expect(saga.status, saga.sagaId).toBe('COMPLETED');
      if (saga.sagaId.startsWith('old-')) {
        expect(saga.definitionVersion).toBe(oldSaga.version);
        expect(saga.data.trail).toEqual(['reserve', 'confirm']);
        // Sent as stock.Reserve v1 by the old code, upcast to v2 by the new participant.
        expect(saga.data.warehouse).toBe('main');
      } else {
        expect(saga.definitionVersion).toBe(newSaga.version);
        expect(saga.data.trail).toEqual(['reserve', 'check', 'confirm']);
        expect(saga.data.warehouse).toBe('east');
      }
    }
    expect(after.reserveVersions).toEqual([...Array<number>(count).fill(1), ...Array<number>(count).fill(2)]);
  });
});
