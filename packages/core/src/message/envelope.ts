/**
 * What travels between services. The payload is JSON; headers are flat strings so every
 * broker can carry them natively (NATS headers, AMQP properties, stream fields).
 */
export interface MessageEnvelope<P = unknown> {
  /** UUIDv7, assigned when the message is written to the outbox; the dedup key downstream. */
  readonly id: string;
  readonly type: string;
  readonly channel: string;
  /** Order is kept per partition key; usually the aggregate id. */
  readonly partitionKey: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly schemaVersion: number;
  readonly payload: P;
  /** Epoch milliseconds of the outbox write. */
  readonly createdAt: number;
}

/** Header names Concord reads and writes. Lower-case so HTTP-ish transports keep them. */
export const MessageHeader = {
  correlationId: 'concord-correlation-id',
  causationId: 'concord-causation-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  sagaId: 'concord-saga-id',
  sagaType: 'concord-saga-type',
  sagaStep: 'concord-saga-step',
  sagaAction: 'concord-saga-action',
  replyChannel: 'concord-reply-channel',
  idempotencyKey: 'concord-idempotency-key',
  replyOutcome: 'concord-reply-outcome',
  replayOf: 'concord-replay-of',
} as const;
