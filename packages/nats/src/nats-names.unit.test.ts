import { describe, expect, it } from 'vitest';
import { encodeToken, NatsNames } from './spi.js';
import { parseAckSubject } from './partition-puller.js';

describe('NATS names', () => {
  it('encodes names into single tokens without collisions', () => {
    const names = ['a.b', 'a_b', 'a:b', 'a__b', 'a_db', 'a_cb', 'a-b', 'a..b'];
    const encoded = names.map(encodeToken);
    expect(new Set(encoded).size).toBe(names.length);
    for (const e of encoded) expect(e).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('derives streams, subjects, records and consumers from the prefix', () => {
    const n = new NatsNames('concord');
    expect(n.channelStream('customer.service')).toBe('concord-ch-customer_dservice');
    expect(n.channelSubject('customer.service', 3)).toBe('concord.customer.service.3');
    expect(n.channelSubjects('customer.service')).toBe('concord.customer.service.*');
    expect(n.leaseKey('billing:v2', 'orders', 7)).toBe('concord.$lease.billing_cv2.p.orders.7');
    expect(n.memberKey('g', 'm-1')).toBe('concord.$lease.g.m.m-1');
    expect(n.consumerName('g.x', 12)).toBe('g_dx_p12');
  });

  it('keeps very long names under the server limit and still distinct', () => {
    const n = new NatsNames('concord');
    const a = n.channelStream('x'.repeat(190));
    const b = n.channelStream('x'.repeat(189) + 'y');
    expect(a.length).toBeLessThanOrEqual(200);
    expect(a).not.toBe(b);
  });
});

describe('ack subject', () => {
  it('reads deliveries and sequences from both reply formats', () => {
    expect(parseAckSubject('$JS.ACK.s.c.2.38.10.1795304295476449482.1490')).toEqual({
      deliveries: 2,
      streamSequence: 38,
      deliverySequence: 10,
    });
    expect(parseAckSubject('$JS.ACK.dom.ACCHASH.s.c.1.5.4.1795304295476449482.0.tok')).toEqual({
      deliveries: 1,
      streamSequence: 5,
      deliverySequence: 4,
    });
    expect(parseAckSubject('_INBOX.abc')).toBeUndefined();
    expect(parseAckSubject('$JS.ACK.s.c.x.5.4.1.0')).toBeUndefined();
  });
});
