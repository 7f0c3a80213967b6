import { headers, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, type JetStreamManager } from '@nats-io/jetstream';
import { NatsTopologyError } from './nats-errors.js';

export interface RecordEntry {
  readonly value: string;
  /** The stream sequence of the record: the compare-and-set token. */
  readonly revision: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface PubAckReply {
  readonly seq?: number;
  readonly error?: { readonly code: number; readonly err_code?: number; readonly description?: string };
}

/**
 * Last-value records on a JetStream stream, one subject per key, with compare-and-set on the
 * subject's last sequence: what a KV bucket is, without the extra client package. When the
 * stream has a max age, a record not rewritten within it disappears: the server's clock
 * expires leases and memberships, so members' clocks never need to agree.
 */
export class RecordBucket {
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    private readonly timeoutMs: number,
  ) {}

  async get(key: string): Promise<RecordEntry | undefined> {
    const stored = await this.jsm.streams.getMessage(this.stream, { last_by_subj: key });
    return stored ? { value: decoder.decode(stored.data), revision: stored.seq } : undefined;
  }

  /** Writes unconditionally; returns the new revision. */
  async put(key: string, value: string): Promise<number> {
    const revision = await this.write(key, value, undefined);
    if (revision === undefined) throw new NatsTopologyError(`record ${key} was not written`);
    return revision;
  }

  /** Writes only if the key has no record now; returns the revision, or undefined if it exists. */
  create(key: string, value: string): Promise<number | undefined> {
    return this.write(key, value, 0);
  }

  /** Writes only if the key's record is still `revision`; returns the new revision or undefined. */
  update(key: string, value: string, revision: number): Promise<number | undefined> {
    return this.write(key, value, revision);
  }

  /** Drops every record of the key at once (a member leaving, instead of waiting for expiry). */
  async remove(key: string): Promise<void> {
    await this.jsm.streams.purge(this.stream, { filter: key });
  }

  /** How many keys matching `filter` have a record. */
  async count(filter: string): Promise<number> {
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: filter });
    return Object.keys(info.state.subjects ?? {}).length;
  }

  private async write(key: string, value: string, expectedRevision: number | undefined): Promise<number | undefined> {
    const h = headers();
    if (expectedRevision !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(expectedRevision));
    const reply = await this.nc.request(key, encoder.encode(value), { timeout: this.timeoutMs, headers: h });
    const ack = JSON.parse(decoder.decode(reply.data)) as PubAckReply;
    if (ack.error) {
      if (ack.error.err_code === JetStreamApiCodes.StreamWrongLastSequence) return undefined;
      throw new NatsTopologyError(`record ${key} rejected: ${ack.error.description ?? ack.error.code}`);
    }
    return ack.seq;
  }
}
