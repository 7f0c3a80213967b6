import type { WakeSignal } from './wake-signal.js';

/**
 * The partition workers of one process, by channel and partition, so a publish in this process
 * wakes exactly the workers of the partitions it wrote to (and a cross-process notice can wake all).
 */
export class PartitionWakers {
  private readonly byPartition = new Map<string, Set<WakeSignal>>();

  /** Registers `signal` for the partition; returns the function that unregisters it. */
  add(channel: string, partition: number, signal: WakeSignal): () => void {
    const key = `${channel}/${partition}`;
    let set = this.byPartition.get(key);
    if (!set) this.byPartition.set(key, (set = new Set()));
    set.add(signal);
    return () => set.delete(signal);
  }

  wake(channel: string, partition: number): void {
    for (const w of this.byPartition.get(`${channel}/${partition}`) ?? []) w.wake();
  }

}
