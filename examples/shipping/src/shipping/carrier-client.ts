import { RemoteCallRejectedError } from '@concord/core';
import type { Label } from '../carrier/label-book.js';

/**
 * The carrier's HTTP API as Shipping calls it. A 4xx answer is a refusal no retry changes
 * (RemoteCallRejectedError); a cut connection, a timeout or a 5xx is worth another attempt.
 */
export class CarrierClient {
  constructor(readonly baseUrl: string) {}

  private async post(path: string, body: unknown, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const res = await fetch(this.baseUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status >= 400 && res.status < 500) {
      throw new RemoteCallRejectedError(
        `carrier refused POST ${path}: ${res.status} ${JSON.stringify(json)}`,
      );
    }
    if (!res.ok) throw new Error(`carrier answered ${res.status} to POST ${path}`);
    return json;
  }

  /** The label of `key`: made by the first call, the same label on every later call. */
  async createLabel(key: string, signal?: AbortSignal): Promise<string> {
    return String((await this.post('/labels', { key }, signal)).labelId);
  }

  /** Voids a label; voiding it again is fine. */
  async voidLabel(labelId: string, signal?: AbortSignal): Promise<void> {
    await this.post(`/labels/${encodeURIComponent(labelId)}/void`, {}, signal);
  }

  /** Every label the carrier ever made (this call is never lossy). */
  async listLabels(signal?: AbortSignal): Promise<Label[]> {
    const res = await fetch(`${this.baseUrl}/labels`, signal ? { signal } : {});
    if (!res.ok) throw new Error(`carrier answered ${res.status} to GET /labels`);
    return ((await res.json()) as { labels: Label[] }).labels;
  }
}
