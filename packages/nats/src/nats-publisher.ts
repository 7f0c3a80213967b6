import { type MessageEnvelope } from '@concord/core';
import { partitionFor } from '@concord/core/spi';
import { headers } from '@nats-io/transport-node';
import type { ChannelTopology } from './channel-topology.js';
import { encodeEnvelope, ENVELOPE_FORMAT, ENVELOPE_FORMAT_HEADER, MESSAGE_TYPE_HEADER } from './envelope-codec.js';
import { NatsPublishError } from './nats-errors.js';
import type { NatsNames } from './nats-names.js';
import type { ReplyMux } from './reply-mux.js';

interface PartitionRun {
  readonly channel: string;
  readonly stream: string;
  readonly subject: string;
  readonly messages: MessageEnvelope[];
}

interface PubAckReply {
  readonly stream?: string;
  readonly seq?: number;
  readonly duplicate?: boolean;
  readonly error?: { readonly code: number; readonly err_code?: number; readonly description?: string };
}

const decoder = new TextDecoder();

/**
 * Publishes with JetStream acknowledgements. Within a partition each message waits for the
 * previous one's PubAck: pipelining would let a message sent after a reconnect be stored
 * before one lost in the broken connection, and the republished one would then land behind
 * it. Partitions go in parallel.
 */
export class NatsPublisher {
  constructor(
    private readonly replies: ReplyMux,
    private readonly topology: ChannelTopology,
    private readonly names: NatsNames,
  ) {}

  async publish(messages: readonly MessageEnvelope[]): Promise<void> {
    const runs = new Map<string, PartitionRun>();
    for (const m of messages) {
      const partition = partitionFor(m.partitionKey, await this.topology.partitionsOf(m.channel));
      const subject = this.names.channelSubject(m.channel, partition);
      let run = runs.get(subject);
      if (!run) {
        run = { channel: m.channel, stream: this.names.channelStream(m.channel), subject, messages: [] };
        runs.set(subject, run);
      }
      run.messages.push(m);
    }
    const results = await Promise.allSettled([...runs.values()].map((run) => this.publishRun(run)));
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  private async publishRun(run: PartitionRun): Promise<void> {
    for (const m of run.messages) await this.publishOne(run, m);
  }

  private async publishOne(run: PartitionRun, m: MessageEnvelope): Promise<void> {
    const h = headers();
    h.set('Nats-Msg-Id', m.id);
    h.set('Nats-Expected-Stream', run.stream);
    h.set(MESSAGE_TYPE_HEADER, m.type);
    h.set(ENVELOPE_FORMAT_HEADER, ENVELOPE_FORMAT);
    let ack: PubAckReply;
    try {
      const reply = await this.replies.request(run.subject, encodeEnvelope(m), h);
      ack = JSON.parse(decoder.decode(reply.data)) as PubAckReply;
    } catch (error) {
      // No stream answered: it may have been deleted; look again before the next publish.
      if ((error as Error).name === 'NoRespondersError' || (error as Error).message?.includes('503')) this.topology.forget(run.channel);
      throw new NatsPublishError(m.id, run.subject, error);
    }
    if (ack.error || typeof ack.seq !== 'number') {
      throw new NatsPublishError(m.id, run.subject, new Error(ack.error?.description ?? 'no sequence in PubAck'));
    }
  }
}
