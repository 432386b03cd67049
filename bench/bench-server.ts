/**
 * One SCIM server for `npm run bench`, in its own process (forked by bench/run.ts), so its event loop, its
 * memory and its CPU are its own and not the load generator's. It prepares its database (migrations, the
 * administrator, the seed) before listening, then answers the parent's questions over IPC: its RSS, the
 * longest event-loop block since the last reset (perf_hooks), and the SMS the inbox provider received.
 *
 * BENCH_SERVER (JSON): { database: { kind: 'postgres', url } | { kind: 'pglite', dataDir }, users, groups,
 * sample, env } where env is the server's configuration (as environment variables).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { type Kysely, sql } from 'kysely';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { createDatabase, type DatabaseTarget } from '../src/db/create-db.js';
import type { Database } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createLogger } from '../src/shared/logger.js';
import { deriveSecretKeys } from '../src/shared/secret-keys.js';
import { ensureAdministrator } from '../src/users/bootstrap-admin.js';
import { ADMIN_PASSWORD, type ParentMessage, type ServerMessage, type ServerSpec } from './protocol.js';
import { seededUserIds, seedGroups, seedUsers } from './seed.js';

const LOOP_RESOLUTION_MS = 5;

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_SERVER ?? '{}') as ServerSpec;
  const log = (line: string) => send({ type: 'log', line });
  const target: DatabaseTarget = spec.database;
  const database = await createDatabase(target);
  await migrateToLatest(database.db);
  await ensureAdministrator(database.db, 'admin', ADMIN_PASSWORD, new Date());
  const started = Date.now();
  if (spec.users > 0) await seedUsers(database.db, spec.users, log);
  const ids = await seededUserIds(database.db, spec.sample + 1);
  const sample = ids.slice(0, spec.sample);
  const groups = spec.groups ? await seedGroups(database.db, ids.at(-1) ?? '') : undefined;
  if (spec.users > 0) {
    log('vacuum analyze ...');
    await sql`vacuum analyze`.execute(database.db);
  }
  const seedSeconds = (Date.now() - started) / 1000;

  const config = loadConfig(spec.env);
  const quiet = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const app = await buildApp({
    config,
    database,
    keys: deriveSecretKeys(config.SECRET_KEY ?? ''),
    logger: createLogger('warn', quiet),
    startDispatcher: true,
    closeDatabase: true,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  process.on('message', (message: ParentMessage) => {
    void answer(message, database.db, loop).then(send);
  });
  process.on('disconnect', () => {
    void app.close().finally(() => process.exit(0));
  });
  send({ type: 'ready', url, ids: sample, groups, seedSeconds });
}

async function answer(
  message: ParentMessage,
  db: Kysely<Database>,
  loop: ReturnType<typeof monitorEventLoopDelay>,
): Promise<ServerMessage> {
  switch (message.type) {
    case 'rss':
      return { type: 'rss', bytes: process.memoryUsage().rss };
    case 'loop-reset':
      loop.reset();
      return { type: 'loop-reset' };
    case 'loop-max':
      // Nanoseconds between two samples of a 5 ms timer: the block is what exceeds those 5 ms.
      return { type: 'loop-max', ms: Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS) };
    case 'inbox':
      return { type: 'inbox', messages: await drainedInbox(db) };
  }
}

/** Waits until the dispatcher has sent every queued SMS, then reads the inbox (numbers and texts). */
async function drainedInbox(db: Kysely<Database>): Promise<{ to: string; body: string }[]> {
  for (let waited = 0; waited < 300; waited += 1) {
    const { count } = await db
      .selectFrom('sms_outbox')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('state', 'in', ['queued', 'sending'])
      .executeTakeFirstOrThrow();
    if (Number(count) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const rows = await db.selectFrom('sms_inbox').select(['to_number', 'body']).execute();
  return rows.map((row) => ({ to: row.to_number, body: row.body }));
}

function send(message: ServerMessage): void {
  process.send?.(message);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
