/**
 * `npm run bench`: the SCIM server on PostgreSQL with 10,000 users, measured with autocannon
 * against a bare Fastify route returning a user-sized body in the same run (the baseline).
 * Figures are reported as ratios to that baseline, so they compare across machines.
 *
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow CREATE DATABASE;
 * a fresh database is created and dropped. BENCH_DURATION_SECONDS (default 10) per scenario.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { hashPassword } from '../src/auth/password.js';
import { loadConfig } from '../src/config/load-config.js';
import { createDatabase } from '../src/db/create-db.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createLogger } from '../src/shared/logger.js';
import { deriveSecretKeys } from '../src/shared/secret-keys.js';
import { ensureAdministrator } from '../src/users/bootstrap-admin.js';

const USERS = 10_000;
const BIG_GROUP_MEMBERS = 50_000;
const GROUPS_OF_ONE_USER = 1_000;
const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const CONNECTIONS = 20;
const ADMIN_PASSWORD = 'bench-admin-password';
const SECRET = 'bench-secret-key-that-is-long-enough-000000';

interface Result {
  name: string;
  requestsPerSecond: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

async function main(): Promise<void> {
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `scim_bench_${Date.now()}`;
  await admin(adminUrl, `create database "${dbName}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  try {
    await run(url.toString());
  } finally {
    await admin(adminUrl, `drop database if exists "${dbName}" with (force)`);
  }
}

async function run(databaseUrl: string): Promise<void> {
  const database = await createDatabase({ kind: 'postgres', url: databaseUrl });
  await migrateToLatest(database.db);
  await ensureAdministrator(database.db, 'admin', ADMIN_PASSWORD, new Date());
  const userIds = await seedUsers(database.db);
  const sampleId = userIds[0] ?? '';
  const bigGroupId = await seedBigGroup(database.db);
  const joinerId = userIds[1] ?? '';
  await seedGroupsOf(database.db, joinerId);

  const config = loadConfig({ SECRET_KEY: SECRET, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', SMS_PROVIDER: 'log' });
  const quiet = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const app = await buildApp({
    config,
    database,
    keys: deriveSecretKeys(SECRET),
    logger: createLogger('warn', quiet),
  });
  const appUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  const auth = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
  const userResponse = await fetch(`${appUrl}/scim2/Users/${sampleId}`, { headers: { authorization: auth } });
  const userBody = await userResponse.text();

  const baseline = Fastify({ logger: false });
  baseline.get('/user', async (_request, reply) => reply.type('application/scim+json').send(userBody));
  const baselineUrl = await baseline.listen({ port: 0, host: '127.0.0.1' });

  const results: Result[] = [];
  results.push(await measure('baseline: bare Fastify, user-sized JSON', { url: `${baselineUrl}/user` }));
  // Each request picks one of the 10,000 users, so the figures are not those of one hot row.
  const anyUser = () => `/scim2/Users/${userIds[Math.floor(Math.random() * userIds.length)] ?? sampleId}`;
  const patchBody = JSON.stringify({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'name.givenName', value: 'Benchmarked' }],
  });
  const patchHeaders = { authorization: auth, 'content-type': 'application/scim+json' };
  results.push(
    await measure('GET /scim2/Users/{id}', {
      url: appUrl,
      headers: { authorization: auth },
      requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: anyUser() }) }],
    }),
  );
  results.push(
    await measure('PATCH /scim2/Users/{id} name.givenName', {
      url: appUrl,
      headers: patchHeaders,
      requests: [{ method: 'PATCH', body: patchBody, setupRequest: (request) => ({ ...request, path: anyUser() }) }],
    }),
  );
  const givenNamePatch = results.at(-1);
  const addMember = (request: { path?: string }) => ({
    ...request,
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: userIds[Math.floor(Math.random() * userIds.length)] }] },
      ],
    }),
  });
  results.push(
    await measure(`PATCH add one member to a ${BIG_GROUP_MEMBERS}-member group`, {
      url: `${appUrl}/scim2/Groups/${bigGroupId}`,
      headers: patchHeaders,
      requests: [{ method: 'PATCH', setupRequest: addMember }],
    }),
  );
  results.push(
    await measure(`GET /scim2/Users/{id} of a user in ${GROUPS_OF_ONE_USER} groups`, {
      url: `${appUrl}/scim2/Users/${joinerId}`,
      headers: { authorization: auth },
    }),
  );
  const groupScenarios = results.slice(-2);
  results.push(
    await measure('PATCH of one user by 20 clients at once (row lock)', {
      url: `${appUrl}/scim2/Users/${sampleId}`,
      method: 'PATCH',
      headers: patchHeaders,
      body: patchBody,
    }),
  );
  report(results);
  if (givenNamePatch !== undefined) compare(givenNamePatch, groupScenarios);
  await baseline.close();
  await app.close();
  await database.db.destroy();
}

async function seedUsers(db: Awaited<ReturnType<typeof createDatabase>>['db']): Promise<string[]> {
  const passwordHash = await hashPassword('bench-user-password');
  const ids: string[] = [];
  for (let start = 0; start < USERS; start += 1000) {
    const batch = Array.from({ length: 1000 }, (_, offset) => ({ id: randomUUID(), index: start + offset }));
    ids.push(...batch.map((user) => user.id));
    await db
      .insertInto('users')
      .values(batch.map((user) => ({ id: user.id, user_name: `user${user.index}`, password_hash: passwordHash })))
      .execute();
    await db
      .insertInto('user_claims')
      .values(
        batch.flatMap((user) => [
          { user_id: user.id, claim_uri: 'http://wso2.org/claims/givenname', value: `Given${user.index}` },
          { user_id: user.id, claim_uri: 'http://wso2.org/claims/lastname', value: `Family${user.index}` },
        ]),
      )
      .execute();
    await db
      .insertInto('user_values')
      .values(
        batch.flatMap((user) => [
          {
            user_id: user.id,
            attribute: 'emails',
            ordinal: 0,
            sub_attribute: 'value',
            value: `user${user.index}@example.com`,
          },
          { user_id: user.id, attribute: 'emails', ordinal: 0, sub_attribute: 'primary', value: 'true' },
          { user_id: user.id, attribute: 'phoneNumbers', ordinal: 0, sub_attribute: 'type', value: 'mobile' },
          {
            user_id: user.id,
            attribute: 'phoneNumbers',
            ordinal: 0,
            sub_attribute: 'value',
            value: `07${String(user.index).padStart(8, '0')}`,
          },
        ]),
      )
      .execute();
  }
  return ids;
}

/** One group of BIG_GROUP_MEMBERS users (bare rows: members need no claims). */
async function seedBigGroup(db: Awaited<ReturnType<typeof createDatabase>>['db']): Promise<string> {
  const groupId = randomUUID();
  const now = new Date();
  await db
    .insertInto('groups')
    .values({ id: groupId, display_name: 'big', created_at: now, updated_at: now })
    .execute();
  for (let start = 0; start < BIG_GROUP_MEMBERS; start += 1000) {
    const batch = Array.from({ length: 1000 }, (_, offset) => ({ id: randomUUID(), index: start + offset }));
    await db
      .insertInto('users')
      .values(batch.map((user) => ({ id: user.id, user_name: `member${user.index}` })))
      .execute();
    await db
      .insertInto('group_members')
      .values(
        batch.map((user) => ({ group_id: groupId, member_user_id: user.id, member_group_id: null, added_at: now })),
      )
      .execute();
  }
  return groupId;
}

/** GROUPS_OF_ONE_USER groups with `userId` as a direct member. */
async function seedGroupsOf(db: Awaited<ReturnType<typeof createDatabase>>['db'], userId: string): Promise<void> {
  const now = new Date();
  const groups = Array.from({ length: GROUPS_OF_ONE_USER }, (_, index) => ({
    id: randomUUID(),
    display_name: `group${index}`,
    created_at: now,
    updated_at: now,
  }));
  await db.insertInto('groups').values(groups).execute();
  await db
    .insertInto('group_members')
    .values(
      groups.map((group) => ({ group_id: group.id, member_user_id: userId, member_group_id: null, added_at: now })),
    )
    .execute();
}

/** The issue's yardstick: each group scenario against a PATCH of name.givenName in the same run. */
function compare(reference: Result, scenarios: Result[]): void {
  process.stdout.write(`\n| scenario | req/s vs PATCH givenName | p99 vs PATCH givenName |\n|---|---|---|\n`);
  for (const result of scenarios) {
    const throughput = (result.requestsPerSecond / reference.requestsPerSecond).toFixed(2);
    const latency = (result.p99Ms / Math.max(1, reference.p99Ms)).toFixed(2);
    process.stdout.write(`| ${result.name} | ${throughput} | ${latency}x |\n`);
  }
}

async function measure(name: string, options: autocannon.Options): Promise<Result> {
  process.stdout.write(`measuring ${name} for ${DURATION}s...\n`);
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
  return {
    name,
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

function report(results: Result[]): void {
  const [baseline] = results;
  if (baseline === undefined) return;
  process.stdout.write(`\n${USERS} users, ${CONNECTIONS} connections, ${DURATION}s each\n`);
  process.stdout.write(
    '| scenario | req/s | p99 ms | req/s vs baseline | p99 vs baseline | errors |\n|---|---|---|---|---|---|\n',
  );
  for (const result of results) {
    const throughput = (result.requestsPerSecond / baseline.requestsPerSecond).toFixed(3);
    const latency = (result.p99Ms / Math.max(1, baseline.p99Ms)).toFixed(2);
    process.stdout.write(
      `| ${result.name} | ${result.requestsPerSecond.toFixed(0)} | ${result.p99Ms} | ${throughput} | ${latency}x | ${result.errors + result.non2xx} |\n`,
    );
  }
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
