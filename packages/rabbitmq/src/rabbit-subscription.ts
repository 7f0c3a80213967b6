import { ConcordError, newId, type Logger } from '@concord/core';
import { backoffDelay, type SubscribeOptions, type Subscription } from '@concord/core/spi';
import type { ChannelTopology } from './channel-topology.js';
import { GroupSession } from './group-session.js';
import type { RabbitConnection } from './rabbit-connection.js';
import { RabbitUnavailableError, errorMessage } from './rabbit-errors.js';
import { retrying } from './retry.js';
import type { RabbitNames } from './rabbit-names.js';
import type { RabbitBrokerSettings } from './rabbit-options.js';

const sessionBackoff = { initialMs: 100, maxMs: 5_000, multiplier: 2, jitter: 0.3 };

/**
 * One member of a consumer group. It keeps a session going: when one breaks (connection
 * lost, RabbitMQ restarted) it waits for the batches in flight and opens the next, which
 * claims partitions again and resumes each from its committed offset.
 */
export class RabbitSubscription implements Subscription {
  readonly memberId = newId();
  private session: GroupSession | undefined;
  private supervisor: Promise<void> | undefined;
  private closed = false;
  private wakeClose!: () => void;
  private readonly closing = new Promise<void>((resolve) => (this.wakeClose = resolve));
  private readonly logger: Logger;

  constructor(
    private readonly connection: RabbitConnection,
    private readonly topology: ChannelTopology,
    private readonly names: RabbitNames,
    private readonly settings: RabbitBrokerSettings,
    private readonly options: SubscribeOptions,
  ) {
    this.logger = settings.logger.child({ component: 'rabbitmq-subscription', group: options.group, member: this.memberId });
  }

  /**
   * Opens the first session, retrying what RabbitMQ may still be setting up; fails (and cleans
   * up) on what no retry fixes, such as a partition mismatch, or after `publishTimeoutMs`.
   */
  async start(): Promise<void> {
    const session = await retrying(
      async () => {
        const session = this.newSession();
        try {
          await session.open();
          return session;
        } catch (error) {
          await session.close(false);
          this.session = undefined;
          throw error;
        }
      },
      {
        what: 'joining the group',
        withinMs: this.settings.publishTimeoutMs,
        isFatal: (error) => error instanceof ConcordError && !(error instanceof RabbitUnavailableError),
        logger: this.logger,
      },
    );
    this.supervisor = this.supervise(session);
  }

  assignedPartitions(): string[] {
    return this.session?.assigned() ?? [];
  }

  async close(): Promise<void> {
    if (this.closed) return this.supervisor;
    this.closed = true;
    this.wakeClose();
    await this.supervisor;
  }

  private newSession(): GroupSession {
    const session = new GroupSession({
      connection: this.connection,
      settings: this.settings,
      names: this.names,
      topology: this.topology,
      memberId: this.memberId,
      options: this.options,
      logger: this.logger,
    });
    this.session = session;
    return session;
  }

  private async supervise(first: GroupSession): Promise<void> {
    let session: GroupSession | undefined = first;
    let failures = 0;
    while (!this.closed) {
      if (!session) {
        session = this.newSession();
        try {
          await session.open();
          failures = 0;
          this.logger.info({}, 'group session resumed');
        } catch (error) {
          failures++;
          this.logger.warn({ err: errorMessage(error), failures }, 'could not resume group session; retrying');
          await session.close(false);
          session = undefined;
          await this.settings.clock.sleep(backoffDelay(sessionBackoff, failures), abortOn(this.closing));
          continue;
        }
      }
      const reason = await Promise.race([session.ended, this.closing.then(() => undefined)]);
      if (this.closed) break;
      this.logger.warn({ reason: reason?.message }, 'group session broke; starting another');
      await session.close(false);
      session = undefined;
      await this.settings.clock.sleep(backoffDelay(sessionBackoff, 1), abortOn(this.closing));
    }
    await session?.close(true);
    this.session = undefined;
  }
}

function abortOn(promise: Promise<void>): AbortSignal {
  const controller = new AbortController();
  // Settled either way, the work is over: abort on a rejection too (handled by whoever awaits it).
  promise.then(
    () => controller.abort(),
    () => controller.abort(),
  );
  return controller.signal;
}
