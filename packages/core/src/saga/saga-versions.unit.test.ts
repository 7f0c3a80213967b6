import { describe, expect, it } from 'vitest';
import { counterSchema } from '../testing/test-messages.js';
import { defineCommand } from './command-definition.js';
import { defineSaga } from './saga-definition.js';
import { ok } from './saga-failure.js';
import { stepsShape } from './saga-definition-version.js';
import { SagaVersionNotRegisteredError, SagaVersionRegistry } from './saga-versions.js';

const Reserve = defineCommand('t.Reserve', { channel: 'c', schema: counterSchema, replies: { Reserved: counterSchema } });
const Check = defineCommand('t.Check', { channel: 'c', schema: counterSchema, replies: { Ok: counterSchema } });
const Release = defineCommand('t.Release', { channel: 'c', schema: counterSchema, replies: { Released: counterSchema } });
const to = (d: { key: string }) => ({ key: d.key, seq: 1 });

/** The same saga as two deployments write it: v2 adds a check step. */
const v1 = () =>
  defineSaga('Order', counterSchema)
    .step('reserve', { invoke: Reserve.with(to), onReply: { Reserved: ok() }, compensate: { invoke: Release.with(to) } })
    .step('confirm', { kind: 'pivot', local: () => undefined })
    .build();
const v2 = () =>
  defineSaga('Order', counterSchema)
    .step('reserve', { invoke: Reserve.with(to), onReply: { Reserved: ok() }, compensate: { invoke: Release.with(to) } })
    .step('check', { invoke: Check.with(to), onReply: { Ok: ok() } })
    .step('confirm', { kind: 'pivot', local: () => undefined })
    .build();

describe('saga definition versions', () => {
  it('fingerprints the steps: the same steps give the same version in every build, handlers aside', () => {
    expect(v1().version).toMatch(/^fp-[0-9a-f]{14}$/);
    expect(v1().version).toBe(v1().version);
    const otherHandler = defineSaga('Order', counterSchema)
      .step('reserve', { invoke: Reserve.with((d) => ({ key: `${d.key}!`, seq: 2 })), onReply: { Reserved: ok() }, compensate: { invoke: Release.with(to) } })
      .step('confirm', { kind: 'pivot', local: () => ({ key: 'x', seq: 0 }) })
      .build();
    expect(otherHandler.version).toBe(v1().version);
  });

  it('changes the fingerprint when a step is added, renamed, re-kinded, or invokes another command', () => {
    const variants = [
      v2(),
      defineSaga('Order', counterSchema).step('reserve2', { invoke: Reserve.with(to), onReply: { Reserved: ok() }, compensate: { invoke: Release.with(to) } }).step('confirm', { kind: 'pivot', local: () => undefined }).build(),
      defineSaga('Order', counterSchema).step('reserve', { invoke: Reserve.with(to), onReply: { Reserved: ok() }, compensate: { invoke: Release.with(to) } }).step('confirm', { local: () => undefined }).build(),
      defineSaga('Order', counterSchema).step('reserve', { invoke: Check.with(to), onReply: { Ok: ok() }, compensate: { invoke: Release.with(to) } }).step('confirm', { kind: 'pivot', local: () => undefined }).build(),
      defineSaga('Order', counterSchema).step('reserve', { invoke: Reserve.with(to), onReply: { Reserved: ok() }, compensate: { local: () => undefined } }).step('confirm', { kind: 'pivot', local: () => undefined }).build(),
    ];
    const versions = new Set([v1().version, ...variants.map((v) => v.version)]);
    expect(versions.size).toBe(6);
    expect(stepsShape(v2().steps as never)).toBe('reserve|compensatable|invoke:t.Reserve|invoke:t.Release;check|compensatable|invoke:t.Check|-;confirm|pivot|local|-');
  });

  it('takes an explicit version instead, and refuses a malformed one', () => {
    expect(defineSaga('Order', counterSchema, { version: 3 }).step('a', { local: () => undefined }).build().version).toBe('3');
    expect(defineSaga('Order', counterSchema, { version: '2026-11' }).step('a', { local: () => undefined }).build().version).toBe('2026-11');
    for (const bad of [0, 1.5, '', 'fp-123', 'has space']) {
      expect(() => defineSaga('Order', counterSchema, { version: bad })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('the registry runs new sagas on the current definition and each instance on the version it recorded', () => {
    const old = v1();
    const current = v2();
    const registry = new SagaVersionRegistry([current], [old]);
    expect(registry.newest('Order')).toBe(current);
    expect(registry.resolve('Order', old.version)).toBe(old);
    expect(registry.resolve('Order', current.version)).toBe(current);
    expect(registry.resolve('Order', null)).toBe(current);
    expect(registry.resolve('Order', 'fp-00000000000000')).toBeUndefined();
    expect(registry.describe()).toEqual({ Order: [current.version, old.version] });
  });

  it('refuses a type listed twice as current, and two different definitions under one version', () => {
    expect(() => new SagaVersionRegistry([v1(), v2()], [])).toThrow('saga Order is registered twice');
    const a = defineSaga('Order', counterSchema, { version: 1 }).step('a', { local: () => undefined }).build();
    const b = defineSaga('Order', counterSchema, { version: 1 }).step('b', { local: () => undefined }).build();
    expect(() => new SagaVersionRegistry([a], [b])).toThrow('saga Order version 1 is registered twice with different definitions');
    expect(() => new SagaVersionRegistry([a], [a])).not.toThrow();
  });

  it('the refusal lists the sagas and versions, with a stable code', () => {
    const error = new SagaVersionNotRegisteredError('shop', [{ sagaType: 'Order', version: 'fp-1', count: 3, sagaIds: ['s1', 's2'] }]);
    expect(error.code).toBe('SAGA_VERSION_NOT_REGISTERED');
    expect(error.message).toContain('Order@fp-1 x3 [s1, s2, …]');
    expect(error.unregistered[0]!.sagaIds).toEqual(['s1', 's2']);
  });
});
