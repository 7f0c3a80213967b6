import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';

/**
 * With CONCORD_CPU_PROFILE_DIR set, profiles this process from start to stop and writes a
 * `.cpuprofile` there (open it in Chrome DevTools): how to find what a slow service spends on.
 */
export async function startCpuProfileIfAsked(name: string): Promise<() => Promise<void>> {
  const dir = process.env.CONCORD_CPU_PROFILE_DIR;
  if (!dir) return async () => {};
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}
