import type { MessageEnvelope } from '@concord/core';
import type { DeliveryBatch } from '@concord/core/spi';

/** Collects deliveries; keeps the first delivery of each id per key, like an inbox would. */
export class DeliveryRecorder {
  readonly firstSeqs = new Map<string, number[]>();
  readonly ids = new Set<string>();
  deliveries = 0;

  readonly handler = async (batch: DeliveryBatch): Promise<void> => {
    for (const m of batch.messages) this.record(m);
  };

  record(m: MessageEnvelope): void {
    this.deliveries++;
    if (this.ids.has(m.id)) return;
    this.ids.add(m.id);
    const { key, seq } = m.payload as { key: string; seq: number };
    const list = this.firstSeqs.get(key) ?? [];
    list.push(seq);
    this.firstSeqs.set(key, list);
  }

  get unique(): number {
    return this.ids.size;
  }

  /** Keys whose first deliveries are not 0, 1, 2, ... in order (empty when all is well). */
  outOfOrderKeys(perKey: number): string[] {
    const bad: string[] = [];
    for (const [key, seqs] of this.firstSeqs) {
      if (seqs.length !== perKey || seqs.some((s, i) => s !== i)) bad.push(key);
    }
    return bad;
  }
}
