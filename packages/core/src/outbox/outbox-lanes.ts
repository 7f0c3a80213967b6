import type { OutboxRecord } from '../ports/store.js';

/** Below this many records per lane, one publish is cheaper than several in parallel. */
const MIN_LANE = 500;

/**
 * Splits records into at most `maxLanes` groups by shard, each keeping its records' order, so
 * the groups can be published in parallel without breaking any key's order (a key has one
 * shard). Small batches stay one group: each lane is a broker round trip of its own.
 */
export function lanesByShard(records: readonly OutboxRecord[], maxLanes: number): OutboxRecord[][] {
  const lanes = Math.max(1, Math.min(maxLanes, Math.ceil(records.length / MIN_LANE)));
  if (lanes === 1) return records.length > 0 ? [[...records]] : [];
  const out = new Map<number, OutboxRecord[]>();
  for (const r of records) {
    const lane = r.shard % lanes;
    let list = out.get(lane);
    if (!list) out.set(lane, (list = []));
    list.push(r);
  }
  return [...out.values()];
}
