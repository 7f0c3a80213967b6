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
 * A full read (from the start) after every change of shards, and every `fullReadEveryMs` (a
 * minute by default) as a safety net for rows written some other way, costs what the floor
 * saves, once.
 */
export class UnsentFloor {
  private floor = 0;
  private checkpoint: { readonly top: number; readonly nextXid: bigint } | undefined;
  private shardsKey = '';
  private lastFullReadAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly fullReadEveryMs = 60_000) {}

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
  advance(snapshot: { readonly xmin: bigint; readonly nextXid: bigint | undefined; readonly top: number }, lowestLeft: number | undefined): void {
    const reached = this.checkpoint !== undefined && snapshot.xmin >= this.checkpoint.nextXid;
    if (reached) {
      // Every transaction that could hold a position up to the checkpoint's top has ended, and
      // this read (from the floor, after they ended) saw what they left.
      const safe = this.checkpoint!.top + 1;
      this.floor = Math.max(this.floor, lowestLeft === undefined ? safe : Math.min(safe, lowestLeft));
      this.checkpoint = undefined;
    }
    if (snapshot.nextXid !== undefined) this.checkpoint ??= { top: snapshot.top, nextXid: snapshot.nextXid };
  }
}
