import { JetStreamApiCodes, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { NatsTopologyError } from './nats-errors.js';

export function isApiError(error: unknown, code: number): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * Creates the stream when missing and returns its config as stored: when several instances
 * race, the first creator's settings win and everyone reads them back.
 */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<StreamConfig> {
  try {
    return (await jsm.streams.info(config.name)).config;
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw new NatsTopologyError(`cannot read stream ${config.name}`, error);
  }
  try {
    return (await jsm.streams.add(config)).config;
  } catch (error) {
    try {
      return (await jsm.streams.info(config.name)).config;
    } catch {
      throw new NatsTopologyError(`cannot create stream ${config.name}`, error);
    }
  }
}

export const nanos = (ms: number): number => ms * 1_000_000;
export const millis = (ns: number): number => Math.round(ns / 1_000_000);
