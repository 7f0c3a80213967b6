/**
 * FNV-1a (32 bit) over the UTF-16 code units of the key. Stable across processes and
 * languages, cheap, and well spread for short ids; every broker uses it to pick a partition.
 */
export function hashPartitionKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function partitionFor(key: string, partitions: number): number {
  return hashPartitionKey(key) % partitions;
}
