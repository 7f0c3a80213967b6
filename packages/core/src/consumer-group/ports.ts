import type { MessageEnvelope } from '../message/envelope.js';
import type { WakeSignal } from '../util/wake-signal.js';

/** One partition of one channel, as a consumer group divides its channels. */
export interface PartitionRef {
  readonly channel: string;
  readonly partition: number;
}

/** `channel/partition`: how `Subscription.assignedPartitions` names a partition. */
export function partitionName(p: PartitionRef): string {
  return `${p.channel}/${p.partition}`;
}

/** What a heartbeat learned about the group. */
export interface GroupView {
  /** Live members, this one included (the table forgets members dead for longer than a lease). */
  readonly members: number;
  /**
   * The group's generation (SQL: the rebuild epoch). When it changes, every worker stops and
   * gives its lease back, and fresh workers read from the offsets of the new generation.
   */
  readonly generation?: number;
  /** True while the group is paused (a rebuild runs): the member holds no partition. */
  readonly paused?: boolean;
}

/** A lease this member holds, with the table's fencing token (a revision; unused by some tables). */
export interface HeldLease<Token> {
  readonly partition: PartitionRef;
  readonly token: Token;
}

/**
 * A renewal's outcome for one lease: renewed (with its new token), `lost` (another member holds
 * it), or `unknown` (the request failed: the member keeps the lease, and its worker pauses
 * once the last sure renewal runs out).
 */
export type RenewResult<Token> = { readonly token: Token } | 'lost' | 'unknown';

/**
 * The lease table port: who is in a group, and which member owns which partition. Leases expire
 * `leaseMs` after their last renewal, on the table's clock, so a member that dies without
 * saying so loses its partitions. Only I/O: the fair-share algorithm is ConsumerGroupMember's.
 */
export interface LeaseTable<Token = unknown> {
  /** Creates whatever rows or keys the partitions need (idempotent); run once at start. */
  prepare?(partitions: readonly PartitionRef[]): Promise<void>;
  /** Records `member` alive and returns the group as it is now. */
  heartbeat(member: string): Promise<GroupView>;
  /** Takes a partition that is free or whose lease expired; its token, or undefined when another member holds it. */
  claim(member: string, partition: PartitionRef): Promise<Token | undefined>;
  /** Extends every lease in `held`; per lease, in order, what became of it. */
  renew(member: string, held: ReadonlyArray<HeldLease<Token>>): Promise<ReadonlyArray<RenewResult<Token>>>;
  /** Frees one lease if `member` still holds it. */
  release(member: string, lease: HeldLease<Token>): Promise<void>;
  /** Frees every lease in `held` and forgets the member (a clean close). */
  leave(member: string, held: ReadonlyArray<HeldLease<Token>>): Promise<void>;
  /**
   * Says that `member` stopped all its workers for `generation` (null: it runs normally), so
   * a rebuild waiting for the group to go quiet can go on. Tables without generations omit it.
   */
  quiesced?(member: string, generation: number | null): Promise<void>;
}

/** One batch read from a partition, and where the group stands once it is handled. */
export interface PartitionBatch<Position> {
  /** In partition order; may be empty when every entry read was skipped (undecodable). */
  readonly messages: readonly MessageEnvelope[];
  readonly position: Position;
  /**
   * The read drained the partition as it was then: wait for a wake-up before reading again
   * (whatever is published later wakes the partition), saving an empty read.
   */
  readonly caughtUp: boolean;
}

/**
 * `idle`: nothing to read now; `lost`: the fenced read found another member owning the
 * partition; `reopen`: the reader lost its place (a gap, a vanished server-side cursor) and
 * must be opened again at the committed position, at once.
 */
export type ReadOutcome<Position> = PartitionBatch<Position> | 'idle' | 'lost' | 'reopen';

/** A partition opened for one owner: reads batches in order and commits how far the group got. */
export interface PartitionReader<Position> {
  read(max: number, signal: AbortSignal): Promise<ReadOutcome<Position>>;
  /** Records that the group handled everything up to `position`; false when fencing refused it (lease lost). */
  commit(position: Position): Promise<boolean>;
  /** Stops reading; writes any commit it deferred. */
  close(): Promise<void>;
}

export interface OpenPartition {
  /** Woken when a publish touches the partition; the source may wake it too (heads polls, lost leases). */
  readonly wake: WakeSignal;
  /** The group generation the reader belongs to; its commits are refused once the group moved on. */
  readonly generation: number;
}

/**
 * The partition source port: where a group's messages and committed positions live.
 *
 * The starting-position rule, the same for every source: a reader starts just after the
 * group's committed position for the partition, or at the oldest retained message when the
 * group has committed none (a new group sees what was published before it subscribed).
 */
export interface PartitionSource<Position = unknown> {
  /** Creates what the group needs on the partitions (idempotent); run once at start. */
  prepare?(partitions: readonly PartitionRef[]): Promise<void>;
  /** How long an idle or caught-up partition waits for a wake-up before it reads again. */
  readonly idleWaitMs: number;
  open(partition: PartitionRef, context: OpenPartition): Promise<PartitionReader<Position>>;
  /** After every reader closed: writes what is still deferred, stops background work. */
  close?(): Promise<void>;
}
