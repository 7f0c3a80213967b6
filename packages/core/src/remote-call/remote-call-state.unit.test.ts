import { describe, expect, it } from 'vitest';
import { isConcordError } from '../errors.js';
import { onOutcome, onRequest, type RemoteCallState } from './remote-call-state.js';

const ALL: RemoteCallState[] = [
  'create_requested',
  'created',
  'create_failed',
  'update_requested',
  'updated',
  'update_failed',
  'delete_requested',
  'deleted',
  'delete_failed',
];

describe('remote call state machine (seed 001 table)', () => {
  it('records create_requested before a first create, and settles it to created or create_failed', () => {
    expect(onRequest(undefined, 'create', 'k')).toEqual({ kind: 'call', state: 'create_requested' });
    expect(onOutcome('create_requested', 'done')).toBe('created');
    expect(onOutcome('create_requested', 'failed')).toBe('create_failed');
    expect(onOutcome('update_requested', 'done')).toBe('updated');
    expect(onOutcome('update_requested', 'failed')).toBe('update_failed');
    expect(onOutcome('delete_requested', 'done')).toBe('deleted');
    expect(onOutcome('delete_requested', 'failed')).toBe('delete_failed');
  });

  it('accepts an outcome only while a request waits for one', () => {
    for (const state of ALL.filter((s) => !s.endsWith('_requested'))) {
      expect(() => onOutcome(state, 'done')).toThrow(/not waiting for an answer/);
    }
  });

  it('treats a repeated create or delete as nothing to do, and lets a failed create be asked again', () => {
    expect(onRequest('create_requested', 'create', 'k')).toEqual({ kind: 'unchanged' });
    expect(onRequest('created', 'create', 'k')).toEqual({ kind: 'unchanged' });
    expect(onRequest('create_failed', 'create', 'k')).toEqual({ kind: 'call', state: 'create_requested' });
    expect(onRequest('delete_requested', 'delete', 'k')).toEqual({ kind: 'unchanged' });
    expect(onRequest('deleted', 'delete', 'k')).toEqual({ kind: 'unchanged' });
  });

  it('deletes by key even while the create is in flight, and settles the delete of a failed create without a call', () => {
    expect(onRequest('create_requested', 'delete', 'k')).toEqual({ kind: 'call', state: 'delete_requested' });
    expect(onRequest('created', 'delete', 'k')).toEqual({ kind: 'call', state: 'delete_requested' });
    expect(onRequest('delete_failed', 'delete', 'k')).toEqual({ kind: 'call', state: 'delete_requested' });
    expect(onRequest('create_failed', 'delete', 'k')).toEqual({ kind: 'settled', state: 'deleted' });
  });

  it('updates only an object that exists and is not being deleted', () => {
    for (const state of ['created', 'updated', 'update_failed', 'update_requested'] as const) {
      expect(onRequest(state, 'update', 'k')).toEqual({ kind: 'call', state: 'update_requested' });
    }
    for (const state of [
      'create_requested',
      'create_failed',
      'delete_requested',
      'deleted',
      'delete_failed',
    ] as const) {
      expect(() => onRequest(state, 'update', 'k')).toThrow(/cannot update/);
    }
  });

  it('refuses update and delete of a key that was never created, with a typed error', () => {
    for (const op of ['update', 'delete'] as const) {
      let error: unknown;
      try {
        onRequest(undefined, op, 'carrier.label/s-1');
      } catch (e) {
        error = e;
      }
      expect(isConcordError(error, 'ILLEGAL_STATE')).toBe(true);
      expect((error as Error).message).toContain('carrier.label/s-1');
    }
  });

  it('refuses to create again what was deleted or is being deleted', () => {
    for (const state of ['deleted', 'delete_requested', 'delete_failed', 'updated'] as const) {
      expect(() => onRequest(state, 'create', 'k')).toThrow(/cannot create/);
    }
  });
});
