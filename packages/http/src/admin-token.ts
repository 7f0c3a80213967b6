import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from '@concord/core';
import { HttpError } from './http-error.js';

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const DEFAULT_NAME = 'admin';

interface Credential {
  readonly name: string;
  readonly digest: Buffer;
}

const digest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

/**
 * The operator API's bearer token(s). `CONCORD_ADMIN_TOKEN` holds one or more comma-separated
 * entries, each `secret` (its actor name is `admin`) or `name:secret` (the name is who a manual
 * action is recorded as). Clients send only the secret: `Authorization: Bearer <secret>`.
 * When the variable is unset a random token is made at start (`generated`), to be printed once.
 */
export class AdminToken {
  private readonly credentials: readonly Credential[];

  private constructor(
    entries: ReadonlyArray<{ name: string; secret: string }>,
    /** True when no token was configured and this one was made at start. */
    readonly generated: boolean,
    /** The first entry's secret, kept only when generated so the console address can carry it. */
    private readonly generatedSecret: string | undefined,
  ) {
    this.credentials = entries.map((e) => ({ name: e.name, digest: digest(e.secret) }));
  }

  /** From `CONCORD_ADMIN_TOKEN`, or a fresh random token when it is unset or empty. */
  static fromEnv(env: Readonly<Record<string, string | undefined>> = process.env): AdminToken {
    const raw = env.CONCORD_ADMIN_TOKEN?.trim();
    if (!raw) return AdminToken.random();
    return AdminToken.parse(raw);
  }

  /** `secret` or `name:secret`, comma-separated; throws on an empty secret or a bad name. */
  static parse(raw: string): AdminToken {
    const entries = raw.split(',').map((entry) => {
      const text = entry.trim();
      const colon = text.indexOf(':');
      const [name, secret] = colon > 0 ? [text.slice(0, colon), text.slice(colon + 1)] : [DEFAULT_NAME, text];
      if (!NAME.test(name)) throw new InvalidArgumentError(`CONCORD_ADMIN_TOKEN: the name "${name}" must be 1-64 of A-Z a-z 0-9 . _ @ -`);
      if (secret.length === 0) throw new InvalidArgumentError(`CONCORD_ADMIN_TOKEN: the entry for "${name}" has an empty secret`);
      return { name, secret };
    });
    return new AdminToken(entries, false, undefined);
  }

  /** A random 256-bit token for the actor `name`. */
  static random(name = DEFAULT_NAME): AdminToken {
    const secret = randomBytes(32).toString('base64url');
    return new AdminToken([{ name, secret }], true, secret);
  }

  /** The secret to hand to a process this one launches (only for a generated token). */
  get secret(): string | undefined {
    return this.generatedSecret;
  }

  /** The actor's name for an `Authorization` header, or undefined when it carries no valid token. */
  authenticate(header: string | undefined): string | undefined {
    if (!header) return undefined;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match) return undefined;
    const presented = digest(match[1]!);
    let actor: string | undefined;
    // Compare against every entry, in constant time, so timing does not tell which one matched.
    for (const c of this.credentials) if (timingSafeEqual(presented, c.digest) && actor === undefined) actor = c.name;
    return actor;
  }

  /** The actor for a request, or 401 UNAUTHORIZED. */
  require(header: string | undefined): string {
    const actor = this.authenticate(header);
    if (actor === undefined) {
      throw new HttpError(401, 'UNAUTHORIZED', header ? 'the bearer token is not valid' : 'this route needs Authorization: Bearer <token> (CONCORD_ADMIN_TOKEN)');
    }
    return actor;
  }

  /** The console's address; carries the token (in the fragment, never sent to a server) only when it was generated. */
  consoleUrl(baseUrl: string, path = '/console'): string {
    return this.generatedSecret ? `${baseUrl}${path}#token=${this.generatedSecret}` : `${baseUrl}${path}`;
  }
}
