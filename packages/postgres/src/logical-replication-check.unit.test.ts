import { describe, expect, it } from 'vitest';
import { checkLogicalReplication, isPostgresStoreError, LogicalReplicationOffError, PostgresErrorReason } from './postgres-errors.js';

describe('WAL tailing refuses a server that cannot stream logical changes', () => {
  it('names wal_level=logical when the server runs wal_level=replica', () => {
    const attempt = () => checkLogicalReplication({ walLevel: 'replica', maxReplicationSlots: '10' });
    expect(attempt).toThrow(LogicalReplicationOffError);
    expect(attempt).toThrow(/wal_level=logical.*wal_level=replica/);
    try {
      attempt();
    } catch (error) {
      expect(isPostgresStoreError(error, PostgresErrorReason.LOGICAL_REPLICATION_OFF)).toBe(true);
      expect(error).toMatchObject({ code: 'ILLEGAL_STATE', setting: 'wal_level', value: 'replica' });
    }
  });

  it('names max_replication_slots when no slot is allowed', () => {
    expect(() => checkLogicalReplication({ walLevel: 'logical', maxReplicationSlots: '0' })).toThrow(/max_replication_slots=0/);
  });

  it('accepts a server with logical WAL and slots', () => {
    expect(() => checkLogicalReplication({ walLevel: 'logical', maxReplicationSlots: 10 })).not.toThrow();
  });
});
