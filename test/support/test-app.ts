import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { UserRow } from '../../src/db/database.js';
import type { Db } from '../../src/db/executor.js';
import type { Clock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { deriveSecretKeys } from '../../src/shared/secret-keys.js';
import { ensureAdministrator } from '../../src/users/bootstrap-admin.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const ADMIN = { userName: 'admin', password: 'admin-password-for-tests' } as const;
export const TEST_SECRET = 'test-secret-key-that-is-long-enough-0123456789';
/** The keys the test app derives from TEST_SECRET (for tests that queue SMS or open them). */
export const TEST_KEYS = deriveSecretKeys(TEST_SECRET);

export class ManualClock implements Clock {
  constructor(private current = new Date()) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Real time plus a shift a test can add to (codes expiring, cooldowns ending) while a browser runs in real time. */
export class ShiftedClock extends ManualClock {
  private offsetMs = 0;
  override now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  override advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface TestApp {
  app: FastifyInstance;
  db: Db;
  database: TestDatabase;
  clock: ManualClock;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  adminAuth: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  database?: TestDatabase;
  startDispatcher?: boolean;
  clock?: ManualClock;
}

export function basicAuth(userName: string, password: string): string {
  return `Basic ${Buffer.from(`${userName}:${password}`).toString('base64')}`;
}

/** The real app on a real database (PGlite, or PostgreSQL with TEST_DATABASE_URL), one per test file or test. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    SECRET_KEY: TEST_SECRET,
    LOG_LEVEL: 'debug',
    SMS_PROVIDER: 'log',
    SMS_POLL_INTERVAL_MS: '60000',
    SMS_RETRY_BASE_MS: '10',
    // Limits get their own tests; elsewhere many users share one number and one client IP.
    SMS_PER_NUMBER_PER_DAY: '10000',
    SMS_PER_USER_PER_DAY: '10000',
    VERIFICATION_REQUESTS_PER_IP_PER_HOUR: '100000',
    // Held refusals get their own test (test/security/password-hashing.test.ts).
    LOGIN_REFUSAL_DELAY_MS: '0',
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const clock = options.clock ?? new ManualClock();
  const app = await buildApp({
    config,
    database: database.handle,
    keys: TEST_KEYS,
    logger: createLogger(config.LOG_LEVEL, sink),
    clock,
    startDispatcher: options.startDispatcher ?? false,
  });
  await app.ready();
  await ensureAdministrator(database.handle.db, ADMIN.userName, ADMIN.password, clock.now());
  return {
    app,
    db: database.handle.db,
    database,
    clock,
    logs,
    adminAuth: basicAuth(ADMIN.userName, ADMIN.password),
    close: async () => {
      await app.close();
      if (options.database === undefined) await database.close();
    },
  };
}

/** Creates a user through SCIM as the admin and returns its id and Basic header. */
export async function createUser(
  testApp: TestApp,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; auth: string; body: Record<string, unknown> }> {
  const password = `${userName}-password`;
  const response = await testApp.app.inject({
    method: 'POST',
    url: '/scim2/Users',
    headers: { authorization: testApp.adminAuth, 'content-type': 'application/scim+json' },
    payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, password, ...extra },
  });
  if (response.statusCode !== 201) throw new Error(`createUser failed: ${response.statusCode} ${response.body}`);
  const body = response.json<Record<string, unknown>>();
  return { id: String(body.id), auth: basicAuth(userName, password), body };
}

export function json(response: LightMyRequestResponse): Record<string, unknown> {
  return response.json<Record<string, unknown>>();
}

export const SCIM = {
  core: 'urn:ietf:params:scim:schemas:core:2.0:User',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  wso2: 'urn:scim:wso2:schema',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  searchRequest: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
} as const;

export interface ScimRequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** An object is sent as JSON; a string is sent as is. */
  body?: unknown;
  /** Defaults to the admin; null sends no Authorization header. */
  auth?: string | null;
  headers?: Record<string, string>;
}

/** One SCIM request as a client sends it: application/scim+json, Basic auth. */
export function scimRequest(testApp: TestApp, options: ScimRequestOptions): Promise<LightMyRequestResponse> {
  const auth = options.auth === undefined ? testApp.adminAuth : options.auth;
  const hasBody = options.body !== undefined;
  return testApp.app.inject({
    method: options.method,
    url: options.url,
    headers: {
      ...(auth === null ? {} : { authorization: auth }),
      ...(hasBody ? { 'content-type': 'application/scim+json' } : {}),
      ...options.headers,
    },
    ...(hasBody ? { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
  });
}

/** A PatchOp request body. */
export function patchBody(...operations: unknown[]): Record<string, unknown> {
  return { schemas: [SCIM.patchOp], Operations: operations };
}

/** The user's row and claims straight from the database (undefined row: no such user). */
export async function storedUser(
  testApp: TestApp,
  id: string,
): Promise<{ row: UserRow | undefined; claims: Map<string, string> }> {
  const row = await testApp.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  const claims = await testApp.db
    .selectFrom('user_claims')
    .select(['claim_uri', 'value'])
    .where('user_id', '=', id)
    .execute();
  return { row, claims: new Map(claims.map((claim) => [claim.claim_uri, claim.value])) };
}

export async function countUsers(testApp: TestApp): Promise<number> {
  const result = await testApp.db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(result.count);
}

let nameCounter = 0;

/** A userName no other test (or test file on the same database) uses. */
export function uniqueName(prefix: string): string {
  nameCounter += 1;
  return `${prefix}-${nameCounter}-${Math.random().toString(36).slice(2, 8)}`;
}
