import { BoundExceededError, ResourceLockedError, StaleVersionError } from '@concord/core';
import { describe, expect, it } from 'vitest';
import { toHttpError } from './http-error.js';

describe('toHttpError and the isolation countermeasures', () => {
  it('answers 409 with the stable code for a semantic lock held by another saga, a stale version, a bound', () => {
    expect(toHttpError(new ResourceLockedError('order:7', 'saga-1'))).toMatchObject({
      status: 409,
      code: 'RESOURCE_LOCKED',
      message: 'order:7 is locked by saga saga-1',
    });
    expect(toHttpError(new StaleVersionError(7, 2, 3))).toMatchObject({ status: 409, code: 'STALE_VERSION' });
    expect(toHttpError(new BoundExceededError(7, -50))).toMatchObject({
      status: 409,
      code: 'BOUND_EXCEEDED',
    });
  });
});
