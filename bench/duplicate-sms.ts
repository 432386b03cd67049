/**
 * Duplicate SMS under repeated kill -9: two server instances share one PostgreSQL (a private one, started
 * here on a free loopback port; the shared server on 5432 is never touched) and a fake gateway that takes
 * 50-250 ms per message. Each round queues verification SMS through both instances and kills one of them
 * with SIGKILL at a random moment, then restarts it. At the end every message must be sent exactly once;
 * the report counts duplicates (a message reaching the gateway more than once, always with the same
 * Idempotency-Key, so a gateway that honours it drops them) and lost messages.
 *
 *   npx tsx bench/duplicate-sms.ts            # DUP_ROUNDS=6 rounds of DUP_PER_ROUND=10 SMS per instance
 */
import { createDatabase } from '../src/db/create-db.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { startFakeSmsGateway } from '../test/support/fake-providers.js';
import { startPrivatePostgres } from '../test/support/private-postgres.js';
import { type ServerProcess, startServerProcess } from '../test/support/server-process.js';

const ROUNDS = Number(process.env.DUP_ROUNDS ?? 6);
const PER_ROUND = Number(process.env.DUP_PER_ROUND ?? 10);
const ADMIN = `Basic ${Buffer.from('admin:bench-admin-password').toString('base64')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const postgres = await startPrivatePostgres();
const handle = await createDatabase({ kind: 'postgres', url: postgres.url });
await migrateToLatest(handle.db);
const gateway = await startFakeSmsGateway();
for (let i = 0; i < 100_000; i++)
  gateway.enqueueResponse({ status: 200, body: { id: `gw-${i}` }, delayMs: 50 + (i % 5) * 50 });

const env = {
  DATABASE_URL: postgres.url,
  SECRET_KEY: 'bench-duplicate-sms-secret-0123456789abcdef',
  ADMIN_PASSWORD: 'bench-admin-password',
  DATA_DIR: '/tmp/scim-bench-duplicate-sms',
  SMS_PROVIDER: 'custom',
  SMS_CUSTOM_URL: `${gateway.url}/send`,
  SMS_CUSTOM_PAYLOAD_TEMPLATE: '{"to":{{mobile}},"text":{{body}},"ref":{{messageId}}}',
  SMS_SEND_TIMEOUT_MS: '1000',
  SMS_POLL_INTERVAL_MS: '200',
  SMS_PER_NUMBER_PER_DAY: '10000',
  SMS_PER_USER_PER_DAY: '10000',
  LOG_LEVEL: 'warn',
};
// LOG_LEVEL=warn hides the "Server listening" line the helper waits for; keep info.
const start = () => startServerProcess({ ...env, LOG_LEVEL: 'info' }, 180_000);

let serial = 0;
async function queueSms(instance: ServerProcess): Promise<boolean> {
  serial += 1;
  try {
    const created = await fetch(`${instance.baseUrl}/scim2/Users`, {
      method: 'POST',
      headers: { authorization: ADMIN, 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: `dup-${serial}`,
        phoneNumbers: [{ type: 'mobile', value: '+94770000000' }],
      }),
    });
    const { id } = (await created.json()) as { id: string };
    const patched = await fetch(`${instance.baseUrl}/scim2/Users/${id}`, {
      method: 'PATCH',
      headers: { authorization: ADMIN, 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          {
            op: 'replace',
            value: { phoneNumbers: [{ type: 'mobile', value: `+9477${String(serial).padStart(7, '0')}` }] },
          },
        ],
      }),
    });
    return patched.status === 200;
  } catch {
    return false; // the instance was killed mid-request: nothing committed, or committed with its SMS
  }
}

let victim = await start();
const survivor = await start();
let kills = 0;
try {
  for (let round = 0; round < ROUNDS; round++) {
    const requests = Array.from({ length: PER_ROUND }, (_, i) => queueSms(i % 2 === 0 ? victim : survivor));
    await sleep(100 + Math.random() * 400);
    victim.child.kill('SIGKILL');
    await victim.exited;
    kills += 1;
    await Promise.all(requests);
    victim = await start();
    process.stdout.write(`round ${round + 1}/${ROUNDS}: instance killed and restarted\n`);
  }
  // Leases of the killed instance's messages end 2 x SMS_SEND_TIMEOUT_MS + 30 s after their claim.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const open = await handle.db
      .selectFrom('sms_outbox')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('state', 'in', ['queued', 'sending'])
      .executeTakeFirstOrThrow();
    if (Number(open.n) === 0 || Date.now() > deadline) break;
    await sleep(1000);
  }
  const rows = await handle.db.selectFrom('sms_outbox').select(['id', 'state']).execute();
  const perKey = new Map<string, number>();
  for (const request of gateway.requests) {
    const key = String(request.headers['idempotency-key']);
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  const duplicates = [...perKey.values()].reduce((sum, count) => sum + count - 1, 0);
  const sent = rows.filter((row) => row.state === 'sent').length;
  const lost = rows.filter((row) => !perKey.has(row.id)).length;
  const refsMatch = gateway.requests.every(
    (request) => (request.json as { ref?: string }).ref === request.headers['idempotency-key'],
  );
  process.stdout.write(
    `${JSON.stringify({ kills, messages: rows.length, sent, gatewayRequests: gateway.requests.length, duplicates, lost, duplicatesCarrySameKey: refsMatch })}\n`,
  );
} finally {
  victim.child.kill('SIGTERM');
  survivor.child.kill('SIGTERM');
  await Promise.all([victim.exited, survivor.exited]);
  await handle.db.destroy();
  await gateway.close();
  await postgres.close();
}
