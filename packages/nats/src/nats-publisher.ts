import { MessageRejectedError, partitionFor, type MessageEnvelope } from '@concord/core';
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
/** Bytes of NATS header framing and our fixed header names and values, generously. */
const HEADER_ALLOWANCE = 256;
/** JetStream's error code for a message over the stream's max_msg_size. */
const JS_MESSAGE_SIZE_EXCEEDED = 10054;

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
    const encoded = this.encodeWithinLimit(messages);
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
    const results = await Promise.allSettled([...runs.values()].map((run) => this.publishRun(run, encoded)));
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  /**
   * The server closes the connection of a client that sends more than max_payload, and would
   * do so on every retry: such a message is refused up front, before anything of the call is
   * sent, with MessageRejectedError (the relay parks it and goes on).
   */
  private encodeWithinLimit(messages: readonly MessageEnvelope[]): Map<MessageEnvelope, Uint8Array> {
    const max = this.replies.maxPayload() ?? Number.POSITIVE_INFINITY;
    const encoded = new Map<MessageEnvelope, Uint8Array>();
    for (const m of messages) {
      const data = encodeEnvelope(m);
      // Headers count toward the limit: ours are a few fixed names plus the id and the type.
      const size = data.byteLength + HEADER_ALLOWANCE + m.id.length + m.type.length;
      if (size > max) throw new MessageRejectedError(m.id, `${size} bytes is over the NATS server's max_payload of ${max} bytes`);
      encoded.set(m, data);
    }
    return encoded;
  }

  private async publishRun(run: PartitionRun, encoded: Map<MessageEnvelope, Uint8Array>): Promise<void> {
    for (const m of run.messages) await this.publishOne(run, m, encoded.get(m) ?? encodeEnvelope(m));
  }

  private async publishOne(run: PartitionRun, m: MessageEnvelope, data: Uint8Array): Promise<void> {
    const h = headers();
    h.set('Nats-Msg-Id', m.id);
    h.set('Nats-Expected-Stream', run.stream);
    h.set(MESSAGE_TYPE_HEADER, m.type);
    h.set(ENVELOPE_FORMAT_HEADER, ENVELOPE_FORMAT);
    let ack: PubAckReply;
    try {
      const reply = await this.replies.request(run.subject, data, h);
      ack = JSON.parse(decoder.decode(reply.data)) as PubAckReply;
    } catch (error) {
      // No stream answered: it may have been deleted; look again before the next publish.
      if ((error as Error).name === 'NoRespondersError' || (error as Error).message?.includes('503')) this.topology.forget(run.channel);
      throw new NatsPublishError(m.id, run.subject, error);
    }
    if (ack.error?.err_code === JS_MESSAGE_SIZE_EXCEEDED) {
      throw new MessageRejectedError(m.id, `JetStream stream ${run.stream}: ${ack.error.description ?? 'message size exceeds maximum allowed'}`);
    }
    if (ack.error || typeof ack.seq !== 'number') {
      throw new NatsPublishError(m.id, run.subject, new Error(ack.error?.description ?? 'no sequence in PubAck'));
    }
  }
}
