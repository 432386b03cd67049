/**
 * `npm run bench`: every row of the performance goals (issue 13) in one run, with the baselines measured in
 * the same run: a bare Fastify route serving the same user JSON, and `pgbench -N` / `pgbench -S` on the same
 * PostgreSQL. The SCIM servers and the baseline run in their own processes (bench/bench-server.ts,
 * bench/baseline-server.ts); autocannon runs here. See bench/README.md for the settings and the latest figures.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { type BenchServer, startBaseline, startServer } from './processes.js';
import { ADMIN_PASSWORD, SECRET, type ServerSpec } from './protocol.js';
import { newMobileOf, USER_PASSWORD } from './seed.js';

const run = promisify(execFile);

const SCENARIOS = [
  'baseline',
  'pgbench',
  'rss',
  'get',
  'get-bearer',
  'patch',
  'patch-mobile',
  'validate-code',
  'filter-eq',
  'filter-co',
  'filter-sw',
  'deep-page',
  'group-member',
  'user-in-groups',
  'row-lock',
  'pglite',
] as const;
type Scenario = (typeof SCENARIOS)[number];

const settings = {
  adminUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  users: integer('BENCH_USERS', 1_000_000),
  smallUsers: integer('BENCH_SMALL_USERS', 10_000),
  pgliteUsers: integer('BENCH_PGLITE_USERS', 100_000),
  sample: integer('BENCH_SAMPLE', 100_000),
  duration: integer('BENCH_DURATION_SECONDS', 10),
  rssLoadSeconds: integer('BENCH_RSS_LOAD_SECONDS', 60),
  warmupSeconds: integer('BENCH_WARMUP_SECONDS', 2, 0),
  connections: integer('BENCH_CONNECTIONS', 20),
  latencyConnections: integer('BENCH_LATENCY_CONNECTIONS', 1),
  pgbench: process.env.BENCH_PGBENCH ?? 'pgbench',
  scenarios: selectedScenarios(process.env.BENCH_SCENARIOS),
};

const ADMIN_BASIC = basic('admin', ADMIN_PASSWORD);
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SCIM_JSON = 'application/scim+json';

const BASELINE = 'baseline: bare Fastify, the same user JSON';
const BASELINE_PGLITE = `${BASELINE} (again, before PGlite)`;
const BASELINE_ROW = 'baseline: bare Fastify + one indexed select of the user (pg), the same JSON';

/** The baselines, measured next to the scenarios compared with them. */
interface Yardsticks {
  baseline(name?: string): Promise<void>;
  /** The bare route after one select of the user's row: the ceiling of a request with one round trip. */
  baselineRow(): Promise<void>;
  pgbench(): Promise<void>;
}

interface Measurement {
  name: string;
  database: 'PostgreSQL' | 'PGlite' | '-';
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** Longest event-loop block of the server process during the measurement. */
  loopBlockMs: number | undefined;
}

const measurements = new Map<string, Measurement>();
const notes: string[] = [];

async function main(): Promise<void> {
  const stamp = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    say(`settings: ${JSON.stringify({ ...settings, scenarios: [...settings.scenarios] })}`);
    const primaryDatabase = `scim_bench_${stamp}`;
    const primary = await postgresServer(primaryDatabase, settings.users, true, cleanups);
    const body = await (await fetch(`${primary.url}/scim2/Users/${primary.ids[0]}`, auth(ADMIN_BASIC))).text();
    const baseline = wants('baseline') ? await startBaseline(body, databaseUrl(primaryDatabase)) : undefined;
    if (baseline !== undefined) cleanups.push(() => baseline.stop());
    const pgbenchUrl = wants('pgbench') ? await initPgbench(`scim_pgbench_${stamp}`, cleanups) : undefined;
    const yardsticks: Yardsticks = {
      baseline: async (name = BASELINE) => {
        if (baseline !== undefined) await measure(name, '-', { url: `${baseline.url}/user` });
      },
      baselineRow: async () => {
        if (baseline !== undefined) await measure(BASELINE_ROW, 'PostgreSQL', userRow(baseline.url, primary.ids));
      },
      pgbench: async () => {
        if (pgbenchUrl !== undefined) await runPgbench(pgbenchUrl);
      },
    };
    const small = wants('filter-eq')
      ? await postgresServer(`scim_bench_small_${stamp}`, settings.smallUsers, false, cleanups)
      : undefined;
    await postgresScenarios(primary, small, yardsticks);
    await small?.stop();
    if (wants('pglite')) await pgliteScenarios(cleanups, yardsticks);
    report();
  } finally {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error: unknown) => say(`cleanup: ${String(error)}`));
  }
}

/** A fresh PostgreSQL database (dropped at the end) with a seeded server on it. */
async function postgresServer(
  name: string,
  users: number,
  groups: boolean,
  cleanups: (() => Promise<void>)[],
): Promise<BenchServer> {
  await admin(`create database "${name}"`);
  cleanups.push(() => admin(`drop database if exists "${name}" with (force)`));
  say(`seeding ${users} users on PostgreSQL (${name}) ...`);
  const server = await startServer(spec({ kind: 'postgres', url: databaseUrl(name) }, users, groups), say);
  cleanups.push(() => server.stop());
  say(`seeded in ${server.seedSeconds.toFixed(0)} s`);
  return server;
}

function spec(database: ServerSpec['database'], users: number, groups: boolean): ServerSpec {
  return {
    database,
    users,
    groups,
    sample: Math.min(settings.sample, users),
    env: {
      SECRET_KEY: SECRET,
      ...(database.kind === 'postgres' ? { DATABASE_URL: database.url } : { DATA_DIR: database.dataDir ?? '' }),
      LOG_LEVEL: 'warn',
      SMS_PROVIDER: 'inbox',
      SMS_POLL_INTERVAL_MS: '200',
      SMS_GLOBAL_PER_HOUR: '10000000',
      VERIFICATION_REQUESTS_PER_IP_PER_HOUR: '1000000',
    },
  };
}

/** `small`: the server on BENCH_SMALL_USERS users, measured right after the big one for the userName eq ratio. */
async function postgresScenarios(
  server: BenchServer,
  small: BenchServer | undefined,
  yardsticks: Yardsticks,
): Promise<void> {
  const users = settings.users;
  if (wants('rss')) {
    const idle = await server.rss();
    await measure(
      `${settings.rssLoadSeconds} s of load (GET and PATCH givenName, random users)`,
      'PostgreSQL',
      { ...mixedLoad(server), duration: settings.rssLoadSeconds },
      server,
    );
    const loaded = await server.rss();
    notes.push(
      `server RSS: ${mib(idle)} MiB idle after seeding ${users} users, ${mib(loaded)} MiB after ${settings.rssLoadSeconds} s of load: ${(loaded / idle).toFixed(2)}x (goal <= 1.2x)`,
    );
  }
  // Each baseline is measured right before the scenarios compared with it: the machine's load drifts.
  await yardsticks.baseline();
  await yardsticks.baselineRow();
  if (wants('get')) await measure('GET /scim2/Users/{id}, Basic', 'PostgreSQL', getUser(server, ADMIN_BASIC), server);
  if (wants('get-bearer')) {
    const token = await passwordGrant(server);
    await measure('GET /scim2/Users/{id}, Bearer', 'PostgreSQL', getUser(server, `Bearer ${token}`), server);
  }
  await yardsticks.pgbench();
  if (wants('patch')) await measure('PATCH name.givenName', 'PostgreSQL', patchGivenName(server), server);
  if (wants('patch-mobile') || wants('validate-code')) {
    const changed = { count: 0 };
    await measure('PATCH the primary mobile (verification start)', 'PostgreSQL', patchMobile(server, changed), server);
    if (wants('validate-code')) await validateCodes(server, changed.count);
  }
  if (small !== undefined) {
    await measure(`filter userName eq at ${users} users`, 'PostgreSQL', userNameEq(server, users), server);
    const smallUsers = settings.smallUsers;
    await measure(`filter userName eq at ${smallUsers} users`, 'PostgreSQL', userNameEq(small, smallUsers), small);
  }
  const latency = settings.latencyConnections;
  if (wants('filter-co')) {
    const filter = () => `emails.value co "r${randomIn(1, users)}@"`;
    await measure('filter emails.value co', 'PostgreSQL', listing(server, filter, latency), server);
  }
  if (wants('filter-sw')) {
    // Five-digit prefixes at 1,000,000 users: 11 matches each (a type-ahead search), counted and listed.
    const low = Math.max(1, Math.floor(users / 100));
    const filter = () => `name.familyName sw "Family${randomIn(low, low * 10 - 1)}"`;
    await measure('filter name.familyName sw', 'PostgreSQL', listing(server, filter, latency), server);
  }
  if (wants('deep-page')) {
    // The list holds the seeded users, then the group members and whoever the scenarios created.
    const listed = await fetch(`${server.url}/scim2/Users?count=0`, auth(ADMIN_BASIC));
    const total = ((await listed.json()) as { totalResults: number }).totalResults;
    notes.push(`deep pages: ${total} users listed (the seeded ones, the 50,000 group members, the administrator)`);
    const near = (start: number) => deepPage(server, latency, start);
    await measure('deep page: startIndex near the end, count=100', 'PostgreSQL', near(total - 1000), server);
    await measure('page in the middle: startIndex about N/2, count=100', 'PostgreSQL', near(total / 2 - 500), server);
  }
  if (wants('group-member') && server.groups !== undefined) {
    await measure('PATCH add one member to a 50000-member group', 'PostgreSQL', addMember(server), server);
  }
  if (wants('user-in-groups') && server.groups !== undefined) {
    const url = `${server.url}/scim2/Users/${server.groups.joinerId}`;
    await measure('GET a user in 1000 groups', 'PostgreSQL', { url, headers: { authorization: ADMIN_BASIC } }, server);
  }
  if (wants('row-lock')) {
    const options = {
      url: `${server.url}/scim2/Users/${server.ids[0]}`,
      method: 'PATCH' as const,
      headers: { authorization: ADMIN_BASIC, 'content-type': SCIM_JSON },
      body: GIVEN_NAME_PATCH,
    };
    await measure('PATCH of one user by all connections at once (row lock)', 'PostgreSQL', options, server);
  }
  if (wants('rss')) notes.push(`server RSS after every PostgreSQL scenario: ${mib(await server.rss())} MiB`);
}

async function pgliteScenarios(cleanups: (() => Promise<void>)[], yardsticks: Yardsticks): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'scim-bench-pglite-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  say(`seeding ${settings.pgliteUsers} users on PGlite (${dataDir}) ...`);
  const server = await startServer(spec({ kind: 'pglite', dataDir }, settings.pgliteUsers, false), say);
  cleanups.push(() => server.stop());
  say(`seeded in ${server.seedSeconds.toFixed(0)} s`);
  await yardsticks.baseline(BASELINE_PGLITE);
  await measure('PGlite: GET /scim2/Users/{id}, Basic', 'PGlite', getUser(server, ADMIN_BASIC), server);
  await measure('PGlite: PATCH name.givenName', 'PGlite', patchGivenName(server), server);
  await server.stop();
}

// --- request shapes ---------------------------------------------------------------------------------

function userRow(baselineUrl: string, ids: readonly string[]): autocannon.Options {
  return {
    url: baselineUrl,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/user-row/${anyOf(ids)}` }) }],
  };
}

function getUser(server: BenchServer, authorization: string): autocannon.Options {
  return {
    url: server.url,
    headers: { authorization },
    requests: [
      { method: 'GET', setupRequest: (request) => ({ ...request, path: `/scim2/Users/${anyOf(server.ids)}` }) },
    ],
  };
}

const GIVEN_NAME_PATCH = JSON.stringify({
  schemas: [PATCH_OP],
  Operations: [{ op: 'replace', path: 'name.givenName', value: 'Benchmarked' }],
});

function patchGivenName(server: BenchServer): autocannon.Options {
  return {
    url: server.url,
    headers: { authorization: ADMIN_BASIC, 'content-type': SCIM_JSON },
    requests: [
      {
        method: 'PATCH',
        body: GIVEN_NAME_PATCH,
        setupRequest: (request) => ({ ...request, path: `/scim2/Users/${anyOf(server.ids)}` }),
      },
    ],
  };
}

function mixedLoad(server: BenchServer): autocannon.Options {
  const [get] = getUser(server, ADMIN_BASIC).requests ?? [];
  const [patch] = patchGivenName(server).requests ?? [];
  return {
    url: server.url,
    headers: { authorization: ADMIN_BASIC, 'content-type': SCIM_JSON },
    requests: [get ?? {}, patch ?? {}],
  };
}

/** Each request moves the next user of the sample (user k+1) to a new number: a pending claim, a code, an SMS. */
function patchMobile(server: BenchServer, changed: { count: number }): autocannon.Options {
  return {
    url: server.url,
    headers: { authorization: ADMIN_BASIC, 'content-type': SCIM_JSON },
    requests: [
      {
        method: 'PATCH',
        setupRequest: (request) => {
          const position = changed.count % server.ids.length;
          changed.count += 1;
          const value = { phoneNumbers: [{ type: 'mobile', value: newMobileOf(position + 1) }] };
          return {
            ...request,
            path: `/scim2/Users/${server.ids[position]}`,
            body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value }] }),
          };
        },
      },
    ],
  };
}

/** The codes the mobile PATCHes sent (read from the inbox provider's table), each validated once by its user. */
async function validateCodes(server: BenchServer, changed: number): Promise<void> {
  const codes = new Map(
    (await server.inbox()).flatMap((message) => {
      const code = /code is ([A-Za-z0-9]+)/.exec(message.body)?.[1];
      return code === undefined ? [] : [[message.to, code] as const];
    }),
  );
  const pairs = Array.from({ length: Math.min(changed, server.ids.length) }, (_, position) => ({
    authorization: basic(`user${position + 1}`, USER_PASSWORD),
    code: codes.get(newMobileOf(position + 1)),
  })).flatMap((pair) => (pair.code === undefined ? [] : [{ authorization: pair.authorization, code: pair.code }]));
  notes.push(`validate-code: ${pairs.length} codes from ${changed} mobile PATCHes, each validated once`);
  if (pairs.length === 0) return;
  // Each user signs in once before (unmeasured), so the measurement is the validation, not a first password check.
  let warmed = 0;
  await autocannon({
    url: server.url,
    connections: settings.connections,
    amount: pairs.length,
    requests: [
      {
        method: 'GET',
        path: '/scim2/Me?attributes=id',
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: pairs[warmed++ % pairs.length]?.authorization ?? '' },
        }),
      },
    ],
  });
  let next = 0;
  await measure(
    'POST /me/validate-code, the right code',
    'PostgreSQL',
    {
      url: server.url,
      amount: pairs.length,
      requests: [
        {
          method: 'POST',
          path: '/api/identity/user/v1.0/me/validate-code',
          setupRequest: (request) => {
            const pair = pairs[next++ % pairs.length];
            return {
              ...request,
              headers: {
                ...request.headers,
                authorization: pair?.authorization ?? '',
                'content-type': 'application/json',
              },
              body: JSON.stringify({ code: pair?.code, properties: [] }),
            };
          },
        },
      ],
    },
    server,
  );
}

function userNameEq(server: BenchServer, users: number): autocannon.Options {
  return listing(server, () => `userName eq "user${randomIn(1, users)}"`, settings.connections);
}

function listing(server: BenchServer, filter: () => string, connections: number): autocannon.Options {
  return {
    url: server.url,
    connections,
    headers: { authorization: ADMIN_BASIC },
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: `/scim2/Users?filter=${encodeURIComponent(filter())}` }),
      },
    ],
  };
}

/** Pages starting at random within the 1,000 positions from `first` (the seeded users come first, by creation). */
function deepPage(server: BenchServer, connections: number, first: number): autocannon.Options {
  const low = Math.max(1, Math.floor(first));
  return {
    url: server.url,
    connections,
    headers: { authorization: ADMIN_BASIC },
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({
          ...request,
          path: `/scim2/Users?startIndex=${randomIn(low, low + 900)}&count=100`,
        }),
      },
    ],
  };
}

function addMember(server: BenchServer): autocannon.Options {
  return {
    url: `${server.url}/scim2/Groups/${server.groups?.bigGroupId}`,
    headers: { authorization: ADMIN_BASIC, 'content-type': SCIM_JSON },
    requests: [
      {
        method: 'PATCH',
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({
            schemas: [PATCH_OP],
            Operations: [{ op: 'add', path: 'members', value: [{ value: anyOf(server.ids) }] }],
          }),
        }),
      },
    ],
  };
}

async function passwordGrant(server: BenchServer): Promise<string> {
  const response = await fetch(`${server.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'admin', password: ADMIN_PASSWORD }).toString(),
  });
  const body = (await response.json()) as { access_token?: string };
  if (body.access_token === undefined) throw new Error(`password grant failed: ${response.status}`);
  return body.access_token;
}

// --- measuring ---------------------------------------------------------------------------------------

async function measure(
  name: string,
  database: Measurement['database'],
  options: autocannon.Options,
  server?: BenchServer,
): Promise<Measurement> {
  const connections = options.connections ?? settings.connections;
  const seconds = options.amount === undefined ? (options.duration ?? settings.duration) : undefined;
  say(
    `measuring ${name} (${connections} connections, ${seconds === undefined ? `${options.amount} requests` : `${seconds} s`}) ...`,
  );
  // Unmeasured warm-up (JIT, pools, the credential cache, which an idle server may have let expire);
  // not for runs of a fixed number of requests, whose requests are each usable once.
  if (options.amount === undefined && settings.warmupSeconds > 0) {
    await autocannon({ ...options, connections, duration: settings.warmupSeconds });
  }
  await server?.resetLoopDelay();
  const result = await autocannon({ duration: settings.duration, ...options, connections });
  const measurement: Measurement = {
    name,
    database,
    connections,
    requestsPerSecond: options.amount === undefined ? result.requests.average : result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
    loopBlockMs: await server?.loopDelayMax(),
  };
  measurements.set(name, measurement);
  return measurement;
}

/** A scratch database initialised by pgbench (scale 10: 1,000,000 accounts), dropped at the end. */
async function initPgbench(name: string, cleanups: (() => Promise<void>)[]): Promise<string> {
  await admin(`create database "${name}"`);
  cleanups.push(() => admin(`drop database if exists "${name}" with (force)`));
  const url = databaseUrl(name);
  say('pgbench -i -s 10 ...');
  await run(settings.pgbench, ['-i', '-s', '10', '-q', url]);
  return url;
}

async function runPgbench(url: string): Promise<void> {
  for (const mode of ['-N', '-S']) {
    say(`pgbench ${mode} (${settings.connections} clients, ${settings.duration} s) ...`);
    const args = [mode, '-c', String(settings.connections), '-j', '2', '-T', String(settings.duration), url];
    const { stdout } = await run(settings.pgbench, args);
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? Number.NaN);
    const latency = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? Number.NaN);
    measurements.set(`pgbench ${mode}`, {
      name: `pgbench ${mode} (tps)`,
      database: 'PostgreSQL',
      connections: settings.connections,
      requestsPerSecond: tps,
      p50Ms: latency,
      p99Ms: Number.NaN,
      failures: 0,
      loopBlockMs: undefined,
    });
  }
}

// --- the report --------------------------------------------------------------------------------------

function report(): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `\n${settings.users} users on PostgreSQL, ${settings.pgliteUsers} on PGlite; ${settings.duration} s per scenario`,
  );
  out('| scenario | database | connections | req/s | p50 ms | p99 ms | failures | max event-loop block ms |');
  out('|---|---|---|---|---|---|---|---|');
  for (const m of measurements.values()) {
    const block = m.loopBlockMs === undefined ? '-' : m.loopBlockMs.toFixed(0);
    out(
      `| ${m.name} | ${m.database} | ${m.connections} | ${m.requestsPerSecond.toFixed(0)} | ${fmt(m.p50Ms)} | ${fmt(m.p99Ms)} | ${m.failures} | ${block} |`,
    );
  }
  const rps = (name: string) => measurements.get(name)?.requestsPerSecond;
  const ratio = (name: string, reference: string, goal: number) => {
    const value = rps(name);
    const base = rps(reference);
    if (value === undefined || base === undefined) return '| n/a | |';
    const figure = value / base;
    // A goal of 0 marks a figure that is reported, not judged.
    const met = figure >= goal ? 'yes' : 'no';
    return `| ${figure.toFixed(3)} | ${goal === 0 ? '-' : met} |`;
  };
  const p99 = (name: string, goal: number) => {
    const value = measurements.get(name)?.p99Ms;
    if (value === undefined) return '| n/a | |';
    return `| p99 ${value} ms | ${value <= goal ? 'yes' : 'no'} |`;
  };
  const baseline = BASELINE;
  out('\n| goal | against | figure | met |');
  out('|---|---|---|---|');
  out(`| GET by id, Basic >= 0.40 | bare Fastify ${ratio('GET /scim2/Users/{id}, Basic', baseline, 0.4)}`);
  out(`| GET by id, Bearer >= 0.38 | bare Fastify ${ratio('GET /scim2/Users/{id}, Bearer', baseline, 0.38)}`);
  out(`| one select per request (report) | bare Fastify ${ratio(BASELINE_ROW, baseline, 0)}`);
  out(
    `| GET by id, Basic (report) | bare Fastify + one select ${ratio('GET /scim2/Users/{id}, Basic', BASELINE_ROW, 0)}`,
  );
  out(`| PATCH givenName >= 0.50 | pgbench -N ${ratio('PATCH name.givenName', 'pgbench -N', 0.5)}`);
  out(
    `| PATCH mobile >= 0.30 | pgbench -N ${ratio('PATCH the primary mobile (verification start)', 'pgbench -N', 0.3)}`,
  );
  out(`| validate-code >= 0.30 | pgbench -N ${ratio('POST /me/validate-code, the right code', 'pgbench -N', 0.3)}`);
  out(
    `| userName eq at ${settings.users} >= 0.8 | the same at ${settings.smallUsers} ${ratio(`filter userName eq at ${settings.users} users`, `filter userName eq at ${settings.smallUsers} users`, 0.8)}`,
  );
  out(`| emails.value co p99 <= 50 ms | - ${p99('filter emails.value co', 50)}`);
  out(`| name.familyName sw p99 <= 50 ms | - ${p99('filter name.familyName sw', 50)}`);
  out(`| deep page p99 <= 100 ms | - ${p99('deep page: startIndex near the end, count=100', 100)}`);
  out(`| page in the middle (report) | - ${p99('page in the middle: startIndex about N/2, count=100', 100)}`);
  out(`| PGlite GET (report) | bare Fastify ${ratio('PGlite: GET /scim2/Users/{id}, Basic', BASELINE_PGLITE, 0)}`);
  out(`| PGlite PATCH (report) | bare Fastify ${ratio('PGlite: PATCH name.givenName', BASELINE_PGLITE, 0)}`);
  const pgliteBlocks = [...measurements.values()].filter((m) => m.database === 'PGlite').map((m) => m.loopBlockMs ?? 0);
  if (pgliteBlocks.length > 0) {
    const worst = Math.max(...pgliteBlocks);
    out(`| PGlite: no event-loop block > 50 ms | - | max ${worst.toFixed(0)} ms | ${worst <= 50 ? 'yes' : 'no'} |`);
  }
  const patch = 'PATCH name.givenName';
  out(
    `| group: add a member (report) | PATCH givenName ${ratio('PATCH add one member to a 50000-member group', patch, 0)}`,
  );
  out(`| group: a user in 1000 groups (report) | PATCH givenName ${ratio('GET a user in 1000 groups', patch, 0)}`);
  for (const note of notes) out(`\n- ${note}`);
}

// --- small helpers -----------------------------------------------------------------------------------

function wants(scenario: Scenario): boolean {
  return settings.scenarios.has(scenario);
}

function selectedScenarios(value: string | undefined): Set<Scenario> {
  if (value === undefined || value.trim() === '') return new Set(SCENARIOS);
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  return new Set(names as Scenario[]);
}

function integer(name: string, fallback: number, least = 1): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < least) throw new Error(`${name} must be an integer >= ${least}`);
  return parsed;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function auth(authorization: string): RequestInit {
  return { headers: { authorization } };
}

function anyOf(ids: readonly string[]): string {
  return ids[Math.floor(Math.random() * ids.length)] ?? '';
}

function randomIn(low: number, high: number): number {
  return low + Math.floor(Math.random() * (high - low + 1));
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function fmt(value: number): string {
  return Number.isNaN(value) ? '-' : String(value);
}

function say(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** The URL of database `name` on the bench's PostgreSQL server. */
function databaseUrl(name: string): string {
  const url = new URL(settings.adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: settings.adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
