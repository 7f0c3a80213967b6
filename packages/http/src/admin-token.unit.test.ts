import { InvalidArgumentError } from '@concord/core';
import { describe, expect, it } from 'vitest';
import { AdminToken } from './admin-token.js';
import { HttpError } from './http-error.js';

describe('AdminToken', () => {
  it('maps each secret to its name; a bare secret acts as "admin"', () => {
    const token = AdminToken.fromEnv({ CONCORD_ADMIN_TOKEN: 'alice:s3cret-a, bob:s3cret-b,plain-secret' });
    expect(token.generated).toBe(false);
    expect(token.authenticate('Bearer s3cret-a')).toBe('alice');
    expect(token.authenticate('bearer   s3cret-b')).toBe('bob');
    expect(token.authenticate('Bearer plain-secret')).toBe('admin');
  });

  it('refuses a missing, wrong, name-prefixed or non-Bearer credential', () => {
    const token = AdminToken.parse('alice:s3cret-a');
    for (const header of [undefined, '', 'Bearer', 'Bearer wrong', 'Bearer alice:s3cret-a', 'Basic s3cret-a', 's3cret-a', 'Bearer s3cret-a extra']) {
      expect(token.authenticate(header)).toBeUndefined();
    }
    expect(() => token.require(undefined)).toThrow(HttpError);
    try {
      token.require('Bearer wrong');
    } catch (error) {
      expect([(error as HttpError).status, (error as HttpError).code]).toEqual([401, 'UNAUTHORIZED']);
    }
  });

  it('makes a random token when none is configured and puts it only in the printed console address', () => {
    const a = AdminToken.fromEnv({});
    const b = AdminToken.fromEnv({ CONCORD_ADMIN_TOKEN: '  ' });
    expect(a.generated && b.generated).toBe(true);
    expect(a.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.secret).not.toBe(b.secret);
    expect(a.authenticate(`Bearer ${a.secret}`)).toBe('admin');
    expect(a.consoleUrl('http://localhost:8080')).toBe(`http://localhost:8080/console#token=${a.secret}`);
    const configured = AdminToken.parse('x:y');
    expect(configured.secret).toBeUndefined();
    expect(configured.consoleUrl('http://localhost:8080')).toBe('http://localhost:8080/console');
  });

  it('refuses a configuration with a bad name or an empty secret', () => {
    expect(() => AdminToken.parse('alice:')).toThrow(InvalidArgumentError);
    expect(() => AdminToken.parse('a,,b')).toThrow(InvalidArgumentError);
    expect(() => AdminToken.parse('bad name:secret')).toThrow(/the name "bad name"/);
  });
});
