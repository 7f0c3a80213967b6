import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { killed, startShippingProcess } from './shipping-client.js';

const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md'), 'utf8');
const PORT = 18270;
const dir = mkdtempSync(join(tmpdir(), 'concord-shipping-readme-'));
let child: ChildProcess | undefined;
afterAll(async () => {
  if (child) await killed(child);
  rmSync(dir, { recursive: true, force: true });
});

describe('the README curl session', () => {
  it('runs verbatim against npm run start:shipping (ports moved into the test range)', async () => {
    const start = /```sh\n(CONCORD_CARRIER_LOSS=[^\n]*) npm run start:shipping\n```/.exec(readme);
    expect(start?.[1]).toBe('CONCORD_CARRIER_LOSS=0.3 CONCORD_ADMIN_TOKEN=ops:secret');
    child = await startShippingProcess({
      PORT: String(PORT),
      CONCORD_DATA_DIR: dir,
      CONCORD_CARRIER_LOSS: '0.3',
      CONCORD_ADMIN_TOKEN: 'ops:secret',
    });
    const session = readme.split('In another terminal:\n\n```sh\n')[1]!.split('```')[0]!;
    const script = session
      .replaceAll('localhost:8080', `localhost:${PORT}`)
      .replaceAll('localhost:8081', `localhost:${PORT + 1}`);
    const out = execFileSync('bash', ['-e', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(out.match(/\{"shipmentId":1\}/g)).toHaveLength(2);
    expect(out).toContain('"code":"IDEMPOTENCY_KEY_REUSED"');
    expect(out).toContain('{"labels":[{"labelId":"LBL-000001","key":"shipment-1","voided":false}]}');
    expect(out).toMatch(
      /"leaked":\[\{"remoteId":"LBL-\d+","key":"by-hand","reason":"no intent for this key","repaired":false\}\]/,
    );
    expect(out).toMatch(
      /"leaked":\[\{"remoteId":"LBL-\d+","key":"by-hand","reason":"no intent for this key","repaired":true\}\],"stale":\[\],"needsPerson":\[\]/,
    );
    expect(out).toContain('"key":"shipment-1","state":"deleted"');
    expect(out).toContain('{"remoteCalls":[]}');
  }, 120_000);
});
