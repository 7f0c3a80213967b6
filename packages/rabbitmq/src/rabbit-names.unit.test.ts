import { describe, expect, it } from 'vitest';
import { RabbitNames } from './spi.js';

describe('RabbitNames', () => {
  const names = new RabbitNames('concord');

  it('keeps channel, partition and group apart', () => {
    expect(names.stream('orders', 3)).toBe('concord/ch/orders/3');
    expect(names.channelDescriptor('orders')).toBe('concord/ch/orders/meta');
    expect(names.lease('billing', 'orders', 3)).toBe('concord/lease/billing/orders/3');
    expect(names.lease('a.b', 'c', 1)).not.toBe(names.lease('a', 'b.c', 1));
  });

  it('bounds long names to 255 bytes and keeps them distinct', () => {
    const group = 'g'.repeat(190);
    const a = names.lease(group, 'c'.repeat(190), 1);
    const b = names.lease(group, 'c'.repeat(190), 2);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(255);
    expect(a).not.toBe(b);
  });

  it('refuses a prefix RabbitMQ names could not carry safely', () => {
    expect(() => new RabbitNames('has/slash')).toThrow(/prefix/);
  });
});
