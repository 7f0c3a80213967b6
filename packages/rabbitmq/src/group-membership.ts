import type { Clock, Logger } from '@concord/core';
import type { AmqpChannel, AmqpMessage } from './amqp-client.js';
import type { GroupMemberView } from './assignment.js';

interface Announcement {
  /** member id */
  readonly m: string;
  /** channels it consumes */
  readonly c: readonly string[];
  readonly k: 'hello' | 'beat' | 'bye';
}

export interface GroupMembershipOptions {
  readonly exchange: string;
  readonly group: string;
  readonly self: GroupMemberView;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called whenever the set of live members changed. */
  readonly onChange: () => void;
}

/**
 * Who else consumes for this group, learnt from announcements on a direct exchange (routing
 * key: the group): `hello` on joining (answered at once by a `beat` from everyone), a `beat`
 * every third of the timeout, `bye` on a clean leave. A member silent for the timeout is gone.
 * Views can differ for a moment; the lease queues' single active consumer keeps that safe.
 */
export class GroupMembership {
  private readonly others = new Map<string, { channels: readonly string[]; lastSeen: number }>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly channel: AmqpChannel,
    private readonly options: GroupMembershipOptions,
  ) {}

  async start(): Promise<void> {
    const { exchange, group } = this.options;
    // Auto-delete: it goes with the last member's binding, so nothing is left behind.
    await this.channel.assertExchange(exchange, 'direct', { durable: false, autoDelete: true });
    // Server-named, exclusive: it goes away with this connection, as a dead member should.
    const { queue } = await this.channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await this.channel.bindQueue(queue, exchange, group);
    await this.channel.consume(queue, (message) => message && this.onAnnouncement(message), { noAck: true });
    this.announce('hello');
    const every = Math.max(20, Math.floor(this.options.timeoutMs / 3));
    this.timer = setInterval(() => this.tick(), every);
  }

  /** Every live member, this one included. */
  view(): GroupMemberView[] {
    return [this.options.self, ...[...this.others].map(([id, o]) => ({ id, channels: o.channels }))];
  }

  stop(sayBye: boolean): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (sayBye) this.announce('bye');
  }

  private tick(): void {
    this.announce('beat');
    const deadline = this.options.clock.now() - this.options.timeoutMs;
    let changed = false;
    for (const [id, other] of this.others) {
      if (other.lastSeen < deadline) {
        this.others.delete(id);
        changed = true;
        this.options.logger.info({ member: id }, 'group member timed out');
      }
    }
    if (changed) this.options.onChange();
  }

  private onAnnouncement(message: AmqpMessage): void {
    let a: Announcement;
    try {
      a = JSON.parse(message.content.toString('utf8')) as Announcement;
      if (typeof a.m !== 'string' || !Array.isArray(a.c)) return;
    } catch {
      return;
    }
    if (a.m === this.options.self.id) return;
    if (a.k === 'bye') {
      if (this.others.delete(a.m)) this.options.onChange();
      return;
    }
    const known = this.others.get(a.m);
    this.others.set(a.m, { channels: a.c, lastSeen: this.options.clock.now() });
    if (a.k === 'hello') this.announce('beat');
    if (!known || known.channels.join('\u0000') !== a.c.join('\u0000')) this.options.onChange();
  }

  private announce(kind: Announcement['k']): void {
    const body: Announcement = { m: this.options.self.id, c: this.options.self.channels, k: kind };
    try {
      this.channel.publish(this.options.exchange, this.options.group, Buffer.from(JSON.stringify(body)));
    } catch (err) {
      // The channel is closing; the session notices through its close event.
      this.options.logger.debug({ err }, 'could not announce group membership');
    }
  }
}
