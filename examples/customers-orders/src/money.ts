import { z } from 'zod';

/**
 * Money on the wire is `{"amount": "12.34"}` (Eventuate's shape); a plain number or numeric
 * string is accepted too. Inside, it is an integer number of cents: no float rounding.
 */
const decimal = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const text = typeof v === 'number' ? String(v) : v.trim();
    const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: 'must be a non-negative amount with at most 2 decimals, e.g. "12.34"' });
      return z.NEVER;
    }
    return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  });

export const Money = z.preprocess(
  (v) => (typeof v === 'object' && v !== null && 'amount' in v ? (v as { amount: unknown }).amount : v),
  decimal,
);
export type Cents = number;

export function formatMoney(cents: Cents): { amount: string } {
  const whole = Math.floor(cents / 100);
  const rest = String(cents % 100).padStart(2, '0');
  return { amount: `${whole}.${rest}` };
}
