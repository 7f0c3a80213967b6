import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Instrumentation, MessageEnvelope } from '@concord/core';

type Headers = Readonly<Record<string, string>>;

const getter: TextMapGetter<Headers> = { keys: (carrier) => Object.keys(carrier), get: (carrier, key) => carrier[key] };
const setter: TextMapSetter<Record<string, string>> = { set: (carrier, key, value) => void (carrier[key] = value) };

/**
 * Traces Concord through @opentelemetry/api: a span when a saga starts, one per message a
 * consumer handles, one per message a relay publishes. The W3C trace context travels in the
 * envelope's `traceparent`/`tracestate` headers, so one saga is one trace across services and
 * processes. With no tracer provider registered the API is a no-op; the demo adds this
 * instrumentation only when tracing is configured, so it costs nothing otherwise.
 */
export class OpenTelemetryTracing {
  // A private propagator, so tracing works whether or not the application registered a global one.
  private readonly propagator = new W3CTraceContextPropagator();

  /** `provider` defaults to the globally registered one (`trace.setGlobalTracerProvider`). */
  constructor(private readonly provider?: TracerProvider) {}

  instrumentation(service: string): Instrumentation {
    const tracer: Tracer = (this.provider ?? trace.getTracerProvider()).getTracer(`concord/${service}`, '0.1.0');
    const base = { 'concord.service': service };
    return {
      inSpan: (request, fn) => {
        const parent = request.parentHeaders ? this.extract(request.parentHeaders, context.active()) : context.active();
        const kind = request.kind === 'consumer' ? SpanKind.CONSUMER : SpanKind.INTERNAL;
        return tracer.startActiveSpan(request.name, { kind, attributes: { ...base, ...request.attributes } }, parent, async (span) => {
          try {
            return await fn();
          } catch (error) {
            span.recordException(error as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
            throw error;
          } finally {
            span.end();
          }
        });
      },
      traceHeaders: () => {
        const active = context.active();
        if (!trace.getSpan(active)?.spanContext().traceId) return undefined;
        const carrier: Record<string, string> = {};
        this.propagator.inject(active, carrier, setter);
        return carrier.traceparent ? carrier : undefined;
      },
      relayPublished: ({ messages, durationMs }) => {
        // One producer span per traced message, as a child of the span that wrote it; spans are
        // recorded after the fact with the batch's real start and end.
        const end = Date.now();
        const start = end - durationMs;
        for (const message of messages) {
          if (!message.headers.traceparent) continue;
          tracer
            .startSpan(`publish ${message.type}`, { kind: SpanKind.PRODUCER, startTime: start, attributes: { ...base, ...messageAttributes(message) } }, this.extract(message.headers, ROOT_CONTEXT))
            .end(end);
        }
      },
      messageFailed: (failure) => {
        const span = trace.getSpan(context.active());
        span?.addEvent(failure.deadLettered ? 'dead-lettered' : 'handler failed', { 'concord.attempts': failure.attempts, 'exception.message': failure.error });
      },
    };
  }

  private extract(headers: Headers, into: Context): Context {
    return this.propagator.extract(into, headers, getter);
  }
}

function messageAttributes(message: MessageEnvelope): Record<string, string> {
  return { 'messaging.destination.name': message.channel, 'messaging.message.id': message.id, 'messaging.message.type': message.type };
}
