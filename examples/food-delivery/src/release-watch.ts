import type { DeliveryService } from './delivery-service/delivery-service.js';
import type { KitchenService } from './kitchen-service/kitchen-service.js';

const HOLDING = new Set(['RESERVED', 'CONFIRMED']);

/**
 * Lets the HTTP answer to cancel and delivered say what the contract says ("its packet and
 * agent released") in the one-process example: the release commands travel through the
 * outbox and the broker, so the answer waits, briefly, until the services applied them.
 * Past `timeoutMs` it answers anyway: the releases are committed and will be applied.
 */
export class ReleaseWatch {
  constructor(
    private readonly kitchens: KitchenService,
    private readonly delivery: DeliveryService,
    private readonly timeoutMs = 5_000,
  ) {}

  async released(orderId: number, what: { packet: boolean; agent: boolean }): Promise<boolean> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const [packet, agent] = await Promise.all([
        what.packet ? this.kitchens.packetReservation(orderId) : undefined,
        what.agent ? this.delivery.agentReservation(orderId) : undefined,
      ]);
      // A release leaves a row behind (a tombstone when the reservation never came): no row yet means not applied yet.
      const done = (wanted: boolean, r: { state: string } | undefined) => !wanted || (r !== undefined && !HOLDING.has(r.state));
      if (done(what.packet, packet) && done(what.agent, agent)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
