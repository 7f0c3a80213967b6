/**
 * Where a polling relay's next read of unsent outbox rows may start, so it does not walk the
 * rows it already sent.
 *
 * Why: a sent row leaves the partial index `concord_outbox_unsent` only when VACUUM gets to
 * it. Between two vacuums every read from the start of the index steps over all of them, and
 * PostgreSQL cannot mark them dead on the way because new rows keep changing the same leaf
 * page. A busy service read hundreds of index entries per message this way.
 *
 * A row below the floor may still appear later: positions are taken when a transaction
 * inserts, and it may commit after a read saw higher positions. So the floor only moves past
 * a position once every transaction that could hold a lower one is over. A transaction takes
 * its outbox positions only once it has its transaction id (PostgresStore's outbox insert), so
 * one that holds a position at or below a committed row's had its id before that row
 * committed. A checkpoint notes the highest position visible to a read and the next id to be
 * given after it; when a later snapshot's `xmin` reaches that id, every transaction that had
 * an id then has ended, and one more read from the old floor sees every row they left.
 *
 * Each shard keeps its own floor and checkpoint, so rounds that read different subsets of the
 * shards (relay rounds in flight, a lease that moves) each keep theirs; a read starts at the
 * lowest floor of its shards. A shard's floor stays valid while another relay owns the shard:
 * no row can appear below it later, whoever sends the rows above. A full read (from the start)
 * every `fullReadEveryMs` (a minute by default) is a safety net for outbox rows written some
 * other way; it costs what the floor saves, once.
 */
interface ShardFloor {
  floor: number;
  checkpoint: { readonly top: number; readonly nextXid: bigint } | undefined;
}

export class UnsentFloor {
  private readonly shards = new Map<number, ShardFloor>();
  private lastFullReadAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly fullReadEveryMs = 60_000) {}

  /** The position to read from for these shards now (0: a full read). */
  startFor(shards: readonly number[], now: number): number {
    if (now - this.lastFullReadAt >= this.fullReadEveryMs) {
      this.shards.clear();
      this.lastFullReadAt = now;
    }
    let from = Number.POSITIVE_INFINITY;
    for (const shard of shards) from = Math.min(from, this.shards.get(shard)?.floor ?? 0);
    return from === Number.POSITIVE_INFINITY ? 0 : from;
  }

  /**
   * After a read of `shards` from `startFor`'s position whose rows were read after `snapshot`:
   * moves their floors where it is safe. `lowestLeft` is the lowest position that read returned
   * (its rows may still fail to publish, and a full batch may have more behind it), or
   * undefined when it returned nothing.
   */
  advance(
    shards: readonly number[],
    snapshot: { readonly xmin: bigint; readonly nextXid: bigint | undefined; readonly top: number },
    lowestLeft: number | undefined,
  ): void {
    for (const shard of shards) {
      let state = this.shards.get(shard);
      if (!state) this.shards.set(shard, (state = { floor: 0, checkpoint: undefined }));
      if (state.checkpoint !== undefined && snapshot.xmin >= state.checkpoint.nextXid) {
        // Every transaction that could hold a position up to the checkpoint's top has ended,
        // and this read (from at most this shard's floor, after they ended) saw what they left.
        const safe = state.checkpoint.top + 1;
        state.floor = Math.max(state.floor, lowestLeft === undefined ? safe : Math.min(safe, lowestLeft));
        state.checkpoint = undefined;
      }
      if (snapshot.nextXid !== undefined) state.checkpoint ??= { top: snapshot.top, nextXid: snapshot.nextXid };
    }
  }
}
