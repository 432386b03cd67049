/**
 * `npm run bench:login-flood`: does a flood of wrong passwords slow down a correct login? (issue #11, point 4)
 *
 * The server on a fresh PostgreSQL database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres;
 * created and dropped), TRUST_PROXY=127.0.0.1 so each side has its own client address (X-Forwarded-For).
 * A correct password grant for one account is timed one request after another, first idle, then while autocannon
 * sends wrong passwords for another account over 32 connections from another address. Two floods:
 * - `defaults`: the server's default throttle (the flooded account locks after 5 failures, the address after 100
 *   an hour), so most guesses are refused before any hash;
 * - `no lockout`: LOGIN_MAX_FAILED_ATTEMPTS=1000 and LOGIN_FAILURES_PER_IP_PER_HOUR=1000000, so every guess costs
 *   a scrypt hash (the worst case: an attacker with many accounts and addresses).
 * Printed: median and p90 of the correct login, idle and flooded, their ratio, and the flood's request rate.
 * BENCH_DURATION_SECONDS (default 10) per flood, BENCH_ROUNDS (default 3) idle/flood pairs per scenario.
 */

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { createDatabase } from '../src/db/create-db.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createLogger } from '../src/shared/logger.js';
import { deriveSecretKeys } from '../src/shared/secret-keys.js';
import { ensureAdministrator } from '../src/users/bootstrap-admin.js';

const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const CONNECTIONS = 32;
const SECRET = 'bench-secret-key-that-is-long-enough-000000';
const PASSWORD = 'bench-correct-password';
const IDLE_SAMPLES = 40;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Latency {
  medianMs: number;
  p90Ms: number;
  samples: number;
  non200: number;
}

async function main(): Promise<void> {
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const rows: string[] = [];
  for (const [name, env] of [
    ['defaults', {}],
    ['no lockout', { LOGIN_MAX_FAILED_ATTEMPTS: '1000', LOGIN_FAILURES_PER_IP_PER_HOUR: '1000000' }],
  ] as const) {
    const dbName = `scim_bench_flood_${Date.now()}`;
    await admin(adminUrl, `create database "${dbName}"`);
    const url = new URL(adminUrl);
    url.pathname = `/${dbName}`;
    try {
      rows.push(await scenario(name, url.toString(), env));
    } finally {
      await admin(adminUrl, `drop database if exists "${dbName}" with (force)`);
    }
  }
  console.log(
    '\n| flood | idle median / p90 ms | flooded median / p90 ms | median ratio | p90 ratio | flood req/s (non-2xx) |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

async function scenario(name: string, databaseUrl: string, env: Record<string, string>): Promise<string> {
  const database = await createDatabase({ kind: 'postgres', url: databaseUrl });
  await migrateToLatest(database.db);
  await ensureAdministrator(database.db, 'admin', 'bench-admin-password', new Date());
  const config = loadConfig({
    SECRET_KEY: SECRET,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'warn',
    SMS_PROVIDER: 'log',
    TRUST_PROXY: '127.0.0.1',
    ...env,
  });
  const quiet = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const app = await buildApp({ config, database, keys: deriveSecretKeys(SECRET), logger: createLogger('warn', quiet) });
  const appUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    for (const userName of ['legit', 'flooded']) await createUser(appUrl, userName);
    const login = () => passwordGrant(appUrl, 'legit', PASSWORD, '198.51.100.7');
    for (let i = 0; i < 5; i += 1) await login(); // warm-up
    // Idle and flooded in turn, ROUNDS times: the machine's other load drifts, each round compares like with like.
    const lines: string[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const idle = await timeSequential(login, () => false, IDLE_SAMPLES);
      // autocannon in a process of its own: sharing the server's event loop would distort what is measured.
      const flood = startFlood(`${appUrl}/oauth2/token`);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // let the flood build up
      const flooded = await timeSequential(login, () => flood.finished, Number.POSITIVE_INFINITY);
      const result = await flood.result;
      lines.push(
        `| ${name} #${round} | ${fmt(idle)} | ${fmt(flooded)} | ${(flooded.medianMs / idle.medianMs).toFixed(2)}x | ${(flooded.p90Ms / idle.p90Ms).toFixed(2)}x | ${Math.round(result.requests.average)} (${result.non2xx}) |`,
      );
    }
    return lines.join('\n');
  } finally {
    await app.close();
    await database.db.destroy();
  }
}

interface FloodResult {
  requests: { average: number };
  non2xx: number;
}

/** 32 connections of wrong passwords for `flooded`, from 203.0.113.66 (X-Forwarded-For), for DURATION seconds. */
function startFlood(url: string): { finished: boolean; result: Promise<FloodResult> } {
  const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const body = new URLSearchParams({ grant_type: 'password', username: 'flooded', password: 'wrong-guess' });
  const child = spawn(
    process.execPath,
    [
      cli,
      '-j',
      '-c',
      String(CONNECTIONS),
      '-d',
      String(DURATION),
      '-m',
      'POST',
      '-H',
      'content-type=application/x-www-form-urlencoded',
      '-H',
      'x-forwarded-for=203.0.113.66',
      '-b',
      body.toString(),
      url,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const state = { finished: false, result: Promise.resolve<FloodResult>({ requests: { average: 0 }, non2xx: 0 }) };
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  state.result = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      state.finished = true;
      if (code === 0) resolve(JSON.parse(output) as FloodResult);
      else reject(new Error(`autocannon exited with ${code}`));
    });
  });
  return state;
}

function fmt(latency: Latency): string {
  const failures = latency.non200 > 0 ? ` (${latency.non200} not 200)` : '';
  return `${latency.medianMs.toFixed(1)} / ${latency.p90Ms.toFixed(1)} (n=${latency.samples})${failures}`;
}

async function timeSequential(request: () => Promise<number>, stop: () => boolean, max: number): Promise<Latency> {
  const times: number[] = [];
  let non200 = 0;
  while (times.length < max && !stop()) {
    const start = performance.now();
    const status = await request();
    times.push(performance.now() - start);
    if (status !== 200) non200 += 1;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? Number.NaN;
  return { medianMs: at(0.5), p90Ms: at(0.9), samples: times.length, non200 };
}

async function passwordGrant(appUrl: string, username: string, password: string, ip: string): Promise<number> {
  const response = await fetch(`${appUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
    body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
  });
  await response.arrayBuffer();
  return response.status;
}

async function createUser(appUrl: string, userName: string): Promise<void> {
  const response = await fetch(`${appUrl}/scim2/Users`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('admin:bench-admin-password').toString('base64')}`,
      'content-type': 'application/scim+json',
    },
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, password: PASSWORD }),
  });
  if (response.status !== 201) throw new Error(`creating ${userName}: ${response.status} ${await response.text()}`);
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
  console.error(error);
  process.exitCode = 1;
});
