import { describe, expect, it } from 'vitest';
import { defineCommand } from '../saga/command-definition.js';
import { defineSaga } from '../saga/saga-definition.js';
import { ok } from '../saga/saga-failure.js';
import { objectSchema } from '../testing/object-schema.js';
import { byValue } from './by-value.js';
import { pessimisticView } from './pessimistic-view.js';

const order = objectSchema<{ orderId: string; total: number }>();
const empty = objectSchema<Record<string, never>>();
const channel = 'cancel-test';
const CancelOrder = defineCommand('t.CancelOrder', { channel, schema: order, replies: { Cancelled: empty } });
const CancelDelivery = defineCommand('t.CancelDelivery', {
  channel,
  schema: order,
  replies: { DeliveryCancelled: empty },
});
const ReleaseCredit = defineCommand('t.ReleaseCredit', {
  channel,
  schema: order,
  replies: { Released: empty },
});
const ReserveCredit = defineCommand('t.ReserveCreditAgain', {
  channel,
  schema: order,
  replies: { Reserved: empty },
});
const same = (d: { orderId: string; total: number }) => d;

describe('pessimistic view', () => {
  it("refuses seed 003's cancel saga that gives credit back first (a dirty read for a concurrent create)", () => {
    const creditFirst = defineSaga('t.CancelCreditFirst', order)
      .step('release-credit', {
        invoke: ReleaseCredit.with(same), onReply: { Released: ok() },
        compensate: { invoke: ReserveCredit.with(same) },
      })
      .step('cancel-order', { kind: 'pivot', invoke: CancelOrder.with(same), onReply: { Cancelled: ok() } })
      .step('cancel-delivery', { kind: 'retriable', invoke: CancelDelivery.with(same), onReply: { DeliveryCancelled: ok() } })
      .build();
    expect(() => pessimisticView(creditFirst, { releases: ['release-credit'] })).toThrow(
      /release-credit" gives a value back/,
    );
    expect(() => pessimisticView(creditFirst, { releases: ['nope'] })).toThrow(/no step "nope"/);
  });

  it('accepts the reordered saga: cancel the order, cancel the delivery, then give the credit back', () => {
    const reordered = defineSaga('t.CancelCreditLast', order)
      .step('cancel-order', { kind: 'pivot', invoke: CancelOrder.with(same), onReply: { Cancelled: ok() } })
      .step('cancel-delivery', { kind: 'retriable', invoke: CancelDelivery.with(same), onReply: { DeliveryCancelled: ok() } })
      .step('release-credit', { kind: 'retriable', invoke: ReleaseCredit.with(same), onReply: { Released: ok() } })
      .build();
    expect(pessimisticView(reordered, { releases: ['release-credit'] })).toBe(reordered);
  });
});

describe('by value', () => {
  it('locks large orders and lets small ones through, first matching rule first', () => {
    const policy = byValue<{ total: number }, 'lock-wait' | 'lock-fail' | 'none'>(
      [
        { when: (o) => o.total >= 10_000, use: 'lock-wait' },
        { when: (o) => o.total >= 1_000, use: 'lock-fail' },
      ],
      'none',
    );
    expect([50, 1_000, 25_000].map((total) => policy({ total }))).toEqual(['none', 'lock-fail', 'lock-wait']);
  });
});
