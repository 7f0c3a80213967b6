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
 * a position once every transaction that could hold a lower one is over: a checkpoint notes
 * the highest position visible and the snapshot's `xmax` (every transaction that had a
 * transaction id then is below it); when a later snapshot's `xmin` reaches that `xmax`, all
 * of them have ended, and one more read from the old floor sees every row they left.
 *
 * One race is left: a transaction whose outbox insert is its first write takes its position
 * just before its transaction id. A full read (from the start) every `fullReadEveryMs` and
 * after every change of shards picks such a row up: at worst late, never lost.
 */
export class UnsentFloor {
  private floor = 0;
  private checkpoint: { readonly top: number; readonly xmax: bigint } | undefined;
  private shardsKey = '';
  private lastFullReadAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly fullReadEveryMs = 5_000) {}

  /** The position to read from for these shards now (0: a full read). */
  startFor(shards: readonly number[], now: number): number {
    const key = shards.join(',');
    if (key !== this.shardsKey || now - this.lastFullReadAt >= this.fullReadEveryMs) {
      this.shardsKey = key;
      this.floor = 0;
      this.checkpoint = undefined;
      this.lastFullReadAt = now;
    }
    return this.floor;
  }

  /**
   * After a read from `startFor`'s position whose rows were read after `snapshot`: moves the
   * floor where it is safe. `lowestLeft` is the lowest position that read returned (its rows
   * may still fail to publish, and a full batch may have more behind it), or undefined when it
   * returned nothing.
   */
  advance(snapshot: { readonly xmin: bigint; readonly xmax: bigint; readonly top: number }, lowestLeft: number | undefined): void {
    const reached = this.checkpoint !== undefined && snapshot.xmin >= this.checkpoint.xmax;
    if (reached) {
      // Every transaction that could hold a position up to the checkpoint's top has ended, and
      // this read (from the floor, after they ended) saw what they left.
      const safe = this.checkpoint!.top + 1;
      this.floor = Math.max(this.floor, lowestLeft === undefined ? safe : Math.min(safe, lowestLeft));
      this.checkpoint = undefined;
    }
    this.checkpoint ??= { top: snapshot.top, xmax: snapshot.xmax };
  }
}
