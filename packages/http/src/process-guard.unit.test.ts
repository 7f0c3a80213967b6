import { EventEmitter } from 'node:events';
import { silentLogger, type Logger } from '@concord/core';
import { describe, expect, it } from 'vitest';
import { guardProcess } from './process-guard.js';

function harness(stop: () => Promise<void>, timeoutMs = 1_000) {
  const target = new EventEmitter() as unknown as NodeJS.Process;
  const logged: string[] = [];
  const logger: Logger = { ...silentLogger, info: () => {}, error: (_o, msg) => void logged.push(msg ?? ''), warn: (_o, msg) => void logged.push(msg ?? ''), child: () => logger };
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => (resolveExit = r));
  const unguard = guardProcess({ logger, stop, timeoutMs, target, exit: (code) => resolveExit(code) });
  return { target, logged, exited, unguard };
}

describe('guardProcess', () => {
  it('stops cleanly and exits 0 on SIGTERM', async () => {
    let stopped = 0;
    const h = harness(async () => void stopped++);
    h.target.emit('SIGTERM', 'SIGTERM');
    expect(await h.exited).toBe(0);
    expect(stopped).toBe(1);
  });

  it('logs an unhandled rejection, stops, and exits 1 instead of dying mid-write', async () => {
    let stopped = 0;
    const h = harness(async () => void stopped++);
    h.target.emit('unhandledRejection', new Error('retention sweep failed'), Promise.resolve());
    expect(await h.exited).toBe(1);
    expect(stopped).toBe(1);
    expect(h.logged).toContain('unhandled promise rejection: stopping the process');
  });

  it('exits 1 when stop overruns its bound or fails', async () => {
    const hung = harness(() => new Promise(() => {}), 50);
    hung.target.emit('uncaughtException', new Error('boom'));
    expect(await hung.exited).toBe(1);
    expect(hung.logged).toContain('stop did not finish in time: exiting');
    const failing = harness(async () => {
      throw new Error('close failed');
    });
    failing.target.emit('SIGINT', 'SIGINT');
    expect(await failing.exited).toBe(1);
  });

  it('uninstalls its handlers', () => {
    const h = harness(async () => {});
    h.unguard();
    expect((h.target as unknown as EventEmitter).listenerCount('SIGTERM')).toBe(0);
    expect((h.target as unknown as EventEmitter).listenerCount('unhandledRejection')).toBe(0);
  });
});
