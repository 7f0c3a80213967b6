import type { Logger } from '@concord/core';
import { SessionLock, lockName } from '@concord/mysql';
import { InventoryError, InventoryErrorCode } from '../inventory-errors.js';
import { purchaseRepository } from '../purchase-service/purchase-repository.js';
import type { InventoryStore } from '../purchase-service/store.js';
import type { StockGuardian } from '../stock-service/stock-guardian.js';
import type { StockService } from '../stock-service/stock-service.js';
import { reconcileLog } from './reconcile-log.js';
import type { Decision, NeedsPersonItem, ReconcileReport, Repair } from './reconcile-types.js';
import { loadFacts } from './recorded-facts.js';
import { assessStock, type StockAssessment } from './stock-assessment.js';

/** How long reconciliation waits for a Redis that is being rebuilt (or is down) before giving up. */
const READY_WAIT_MS = 10_000;

/**
 * Compares Redis with the record. MySQL is the record: from its restocks, purchases and
 * accepted adjustments, and the Redis ledger of applied message ids, it says what each count
 * must be. What MySQL proves is repaired; a ledger entry nothing in MySQL explains is left in
 * effect and listed for a person, who decides with a note. Everything done is logged in MySQL.
 */
export class Reconciler {
  constructor(
    private readonly store: InventoryStore,
    private readonly stock: StockService,
    private readonly guardian: StockGuardian,
    private readonly logger: Logger,
  ) {}

  /** One run; runs in other processes of the service wait (a MySQL named lock). */
  async reconcile(actor: string): Promise<ReconcileReport> {
    await this.guardian.ready(READY_WAIT_MS);
    const lock = await SessionLock.acquire(this.store.driver, lockName(this.store.driver.database, 'inventory-reconcile'));
    try {
      return await this.run(actor);
    } finally {
      await lock?.release();
    }
  }

  private async run(actor: string): Promise<ReconcileReport> {
    const startedAt = Date.now();
    const { facts, generation, runId } = await this.store.transaction(async (tx) => ({
      facts: await loadFacts(tx.handle),
      generation: await purchaseRepository.stockGeneration(tx.handle),
      runId: await reconcileLog.startRun(tx.handle, actor, startedAt),
    }));
    const drifted: Array<ReconcileReport['drifted'][number]> = [];
    const repaired: Repair[] = [];
    const needsPerson: NeedsPersonItem[] = [];
    let checked = 0;
    for (const productFacts of facts.values()) {
      const { productId } = productFacts;
      const snapshot = await this.stock.snapshot(productId);
      if (snapshot.generation !== generation) continue; // rebuilt meanwhile: the rebuild wrote the record itself
      let assessment = assessStock(productFacts, snapshot);
      if (assessment.unexplained.length > 0) {
        // Read MySQL again: entries written after the first read are purchases made meanwhile.
        const later = await this.store.transaction((tx) => loadFacts(tx.handle, [productId]));
        assessment = assessStock(productFacts, snapshot, later.get(productId));
      }
      checked++;
      if (assessment.found !== assessment.expected) drifted.push({ productId, expected: assessment.expected, found: assessment.found });
      const repair = await this.repair(runId, actor, productId, generation, assessment);
      if (repair) repaired.push(repair);
      needsPerson.push(...(await this.listForPerson(runId, actor, productId, assessment)));
    }
    const report: ReconcileReport = { checked, drifted, repaired, needsPerson };
    await this.store.transaction((tx) => reconcileLog.finishRun(tx.handle, runId, report));
    if (drifted.length || needsPerson.length) this.logger.warn({ runId, actor, ...report }, 'reconciliation found drift');
    return report;
  }

  private async repair(runId: number, actor: string, productId: number, generation: number, a: StockAssessment): Promise<Repair | undefined> {
    const correction = a.target - (a.found ?? 0);
    if (correction === 0 && a.missing.length === 0 && a.found !== null) return undefined;
    if (!(await this.stock.repair(productId, generation, correction, a.missing))) return undefined;
    const to = (a.found ?? 0) + correction;
    const held = a.unexplained.length ? `, keeping ${a.unexplained.length} unexplained ledger entr${a.unexplained.length === 1 ? 'y' : 'ies'} in effect until a person decides` : '';
    const why =
      `Redis held ${a.found ?? 'no count'}; MySQL's restocks, purchases and adjustments with the Redis ledger prove ${a.expected}` +
      (a.missing.length ? `; restored ${a.missing.length} ledger entr${a.missing.length === 1 ? 'y' : 'ies'} MySQL records and Redis had lost` : '') +
      held;
    const repair: Repair = { productId, from: a.found, to, restoredEntries: a.missing.map(([id]) => id), why };
    await this.store.transaction((tx) => reconcileLog.action(tx.handle, { runId, itemId: null, productId, kind: 'REPAIR', actor, why, detail: repair }));
    return repair;
  }

  private async listForPerson(runId: number, actor: string, productId: number, a: StockAssessment): Promise<NeedsPersonItem[]> {
    const items: NeedsPersonItem[] = [];
    for (const u of a.unexplained) {
      const item = await this.store.transaction(async (tx) => {
        const { item, created } = await reconcileLog.openItem(tx.handle, runId, { productId, ...u });
        if (created) {
          const why = `${u.description}; nothing proves whether it is right, so a person decides`;
          await reconcileLog.action(tx.handle, { runId, itemId: item.itemId, productId, kind: 'LISTED_FOR_PERSON', actor, why, detail: u });
        }
        return item;
      });
      items.push(item);
    }
    return items;
  }

  /**
   * A person's decision on an open item: `reverse` takes the entry's effect out of Redis (the
   * units come back, or go), `accept` records it in MySQL as an adjustment so it is part of the
   * record from now on (and survives a rebuild). Either way the decision, who and why is logged.
   */
  async resolve(itemId: number, decision: Decision, note: string, actor: string): Promise<NeedsPersonItem> {
    const item = await this.store.transaction((tx) => reconcileLog.item(tx.handle, itemId));
    if (!item) throw new InventoryError(InventoryErrorCode.ITEM_NOT_FOUND, `reconcile item ${itemId} not found`);
    if (item.state !== 'OPEN') throw new InventoryError(InventoryErrorCode.ITEM_ALREADY_RESOLVED, `reconcile item ${itemId} was already resolved by ${item.resolvedBy}`);
    let outcome = 'the entry stays in Redis and is recorded in MySQL as an adjustment';
    if (decision === 'reverse') {
      await this.guardian.ready(READY_WAIT_MS);
      const generation = await this.stock.generation();
      const status = generation === null ? 'GENERATION_CHANGED' : await this.stock.reverseEntry(item.productId, generation, item.messageId, String(item.delta));
      const gone = (await this.stock.snapshot(item.productId)).ledger.get(item.messageId) === undefined;
      if (status !== 'OK' && !gone) {
        throw new InventoryError(InventoryErrorCode.ITEM_CHANGED, `the ledger entry ${item.messageId} changed since it was listed; reconcile again`);
      }
      outcome = status === 'OK' ? `the entry was reversed in Redis (count ${item.delta > 0 ? '-' : '+'}${Math.abs(item.delta)})` : 'the entry was already gone from Redis';
    }
    return this.store.transaction(async (tx) => {
      const locked = await reconcileLog.item(tx.handle, itemId, true);
      if (locked?.state !== 'OPEN') throw new InventoryError(InventoryErrorCode.ITEM_ALREADY_RESOLVED, `reconcile item ${itemId} was already resolved`);
      if (decision === 'accept') await reconcileLog.insertAdjustment(tx.handle, locked);
      await reconcileLog.resolveItem(tx.handle, itemId, actor, decision, note);
      await reconcileLog.action(tx.handle, {
        runId: null,
        itemId,
        productId: item.productId,
        kind: 'RESOLVE',
        actor,
        why: note,
        detail: { decision, messageId: item.messageId, delta: item.delta, outcome },
      });
      return (await reconcileLog.item(tx.handle, itemId))!;
    });
  }
}
