import { createHmac } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { recordAuditEvent } from '../audit/audit-log.js';
import type { UserRow } from '../db/database.js';
import type { Db, Executor } from '../db/executor.js';
import { AppError } from '../errors/app-error.js';
import type { Clock } from '../shared/clock.js';
import { CLAIM } from '../users/claims.js';
import { findUserByUserName } from '../users/user-repository.js';
import type { Revocations } from './credential-events.js';
import { generatePassword, hashPassword, verifyPassword } from './password.js';

/**
 * Failed logins, counted in PostgreSQL per account and per client IP so the limits hold on every
 * instance (WSO2's account-lock semantics): after `maxFailures` wrong passwords in a row the account
 * is locked for `lockSeconds`, multiplied by `lockGrowth` for each lock since the last success; an
 * administrator unlocks it (SCIM `urn:scim:wso2:schema:accountLocked: false`). A locked, unknown or
 * wrong account all get the same answer. A client IP with too many failures in an hour is refused
 * (429) before any password is hashed.
 */
export interface LoginThrottleSettings {
  maxFailures: number;
  lockSeconds: number;
  lockGrowth: number;
  ipFailuresPerHour: number;
  /** Each refusal of an address over its budget is held this long: a flood's connections then wait, not spin. */
  refusalDelayMs: number;
}

export interface LoginThrottleDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Keys the hash of client IPs (numbers never stored whole). */
  key: Buffer;
  settings: LoginThrottleSettings;
  /** A lock also ends the account's cached Basic credentials on every instance. */
  revocations: Revocations;
}

export interface PasswordLogin {
  userName: string;
  password: string;
  clientIp: string | undefined;
  /** What the caller answers for a failure (401 for Basic, invalid_grant for the token endpoint). */
  failure: () => AppError;
  /** This very password was verified against this hash moments ago (the Basic credential cache). */
  recentlyVerified?: (passwordHash: string) => boolean;
}

export interface LoginThrottle {
  /** The user whose password this is, or the caller's failure; see the module comment. */
  verifyPasswordLogin(login: PasswordLogin): Promise<UserRow>;
  /** For secrets other than user passwords (OAuth clients): same counting, subject named by the caller. */
  guard<T>(
    subject: string,
    clientIp: string | undefined,
    failure: () => AppError,
    attempt: () => Promise<T | undefined>,
  ): Promise<T>;
  /** Administrator lock/unlock, in the caller's transaction. */
  setLocked(trx: Executor, userId: string, locked: boolean): Promise<void>;
}

const IP_WINDOW_MS = 60 * 60_000;
const MAX_REMEMBERED_REFUSALS = 10_000;
/** An administrator's lock lasts until an administrator lifts it. */
const FOREVER = new Date('9999-12-31T00:00:00Z');
const ACCOUNT_LOCKED_CLAIM = CLAIM.accountLocked;

export function createLoginThrottle(deps: LoginThrottleDeps): LoginThrottle {
  const { db, clock, logger, settings } = deps;
  let decoyHash: Promise<string> | undefined;

  const accountSubject = (userId: string) => `account:${userId}`;
  const ipSubject = (ip: string) => `ip:${createHmac('sha256', deps.key).update(ip).digest('base64url').slice(0, 22)}`;

  async function lockedUntil(subject: string): Promise<Date | null> {
    const row = await db
      .selectFrom('login_failures')
      .select('locked_until')
      .where('subject', '=', subject)
      .executeTakeFirst();
    return row?.locked_until ?? null;
  }

  /**
   * Addresses this instance found over their budget, until their window ends. Refusing them from memory keeps a
   * flood from one address off the database (and the pool a correct login needs); the database stays the
   * authority, since nothing but the end of the window lifts such a refusal.
   */
  const refusedIps = new Map<string, number>();

  async function assertIpAllowed(clientIp: string | undefined): Promise<void> {
    if (clientIp === undefined) return;
    const subject = ipSubject(clientIp);
    const now = clock.now().getTime();
    const refusedUntil = refusedIps.get(subject);
    if (refusedUntil !== undefined && refusedUntil > now) {
      // Held, not hurried: 32 connections of a flood then cost 32 cheap timers a second, not thousands of answers
      // competing with correct logins for the CPU.
      await delay(settings.refusalDelayMs);
      throw tooManyFailures(refusedUntil, now);
    }
    refusedIps.delete(subject);
    const row = await db
      .selectFrom('login_failures')
      .select(['failures', 'first_failure_at'])
      .where('subject', '=', subject)
      .executeTakeFirst();
    if (row === undefined || row.first_failure_at.getTime() + IP_WINDOW_MS <= now) return;
    if (row.failures >= settings.ipFailuresPerHour) {
      const until = row.first_failure_at.getTime() + IP_WINDOW_MS;
      if (refusedIps.size >= MAX_REMEMBERED_REFUSALS) refusedIps.clear();
      refusedIps.set(subject, until);
      throw tooManyFailures(until, now);
    }
  }

  function tooManyFailures(until: number, now: number): AppError {
    return new AppError('TOO_MANY_REQUESTS', 'Too many failed sign-in attempts from this address; try again later', {
      retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)),
    });
  }

  /** One upsert per subject: concurrent failures serialise on the row, none is lost. */
  async function countFailure(trx: Executor, subject: string, windowMs: number | null) {
    const now = clock.now();
    const windowStart = windowMs === null ? new Date(0) : new Date(now.getTime() - windowMs);
    return trx
      .insertInto('login_failures')
      .values({ subject, failures: 1, first_failure_at: now, locked_until: null, lock_count: 0, updated_at: now })
      .onConflict((conflict) =>
        conflict.column('subject').doUpdateSet({
          failures: sql`case when login_failures.first_failure_at < ${windowStart} then 1 else login_failures.failures + 1 end`,
          first_failure_at: sql`case when login_failures.first_failure_at < ${windowStart} then ${now} else login_failures.first_failure_at end`,
          updated_at: now,
        }),
      )
      .returning(['failures', 'lock_count'])
      .executeTakeFirstOrThrow();
  }

  async function recordFailure(
    accountSubjectId: string | undefined,
    userId: string | null,
    clientIp: string | undefined,
  ) {
    const now = clock.now();
    await deps.revocations.transaction(db, async (trx, revoke) => {
      if (clientIp !== undefined) await countFailure(trx, ipSubject(clientIp), IP_WINDOW_MS);
      if (accountSubjectId === undefined) return;
      const counted = await countFailure(trx, accountSubjectId, null);
      if (counted.failures < settings.maxFailures) return;
      const seconds = settings.lockSeconds * settings.lockGrowth ** counted.lock_count;
      const until = new Date(now.getTime() + Math.min(seconds, 365 * 86_400) * 1000);
      await trx
        .updateTable('login_failures')
        .set({ failures: 0, locked_until: until, lock_count: counted.lock_count + 1, updated_at: now })
        .where('subject', '=', accountSubjectId)
        .execute();
      if (userId !== null) {
        await writeLockedClaim(trx, userId, true);
        revoke({ kind: 'user', id: userId });
      }
      await recordAuditEvent(
        trx,
        {
          type: 'ACCOUNT_LOCKED',
          userId,
          details: { lockedSeconds: Math.round(seconds), lock: counted.lock_count + 1 },
        },
        { actorId: null, persona: 'system', clientIp: clientIp ?? null, requestId: null },
        now,
      );
      logger.warn(
        { event: 'account_locked', subject: accountSubjectId, lockedSeconds: Math.round(seconds) },
        'account locked after failed logins',
      );
    });
  }

  async function recordSuccess(subject: string, userId: string | null): Promise<void> {
    const deleted = await db.deleteFrom('login_failures').where('subject', '=', subject).executeTakeFirst();
    if (userId !== null && deleted.numDeletedRows > 0n) await writeLockedClaim(db, userId, false);
  }

  async function rejectAfterDecoy(login: PasswordLogin): Promise<never> {
    decoyHash ??= hashPassword(generatePassword());
    await verifyPassword(login.password, await decoyHash, hashQueueOf(login));
    throw login.failure();
  }

  return {
    async verifyPasswordLogin(login) {
      await assertIpAllowed(login.clientIp);
      const user = await findUserByUserName(db, login.userName);
      if (user?.password_hash == null || !user.active) {
        await recordFailure(undefined, null, login.clientIp);
        return rejectAfterDecoy(login);
      }
      const subject = accountSubject(user.id);
      const until = await lockedUntil(subject);
      // Locked: refused without hashing, with the same answer; it still counts against the address, so a flood
      // on a locked account soon meets the address limit (refused from memory, without the database).
      if (until !== null && until.getTime() > clock.now().getTime()) {
        await recordFailure(undefined, null, login.clientIp);
        throw login.failure();
      }
      const cached = login.recentlyVerified?.(user.password_hash) ?? false;
      if (!cached && !(await verifyPassword(login.password, user.password_hash, hashQueueOf(login)))) {
        await recordFailure(subject, user.id, login.clientIp);
        throw login.failure();
      }
      if (until !== null || (await hasFailures(subject))) await recordSuccess(subject, user.id);
      return user;
    },

    async guard(subject, clientIp, failure, attempt) {
      await assertIpAllowed(clientIp);
      const key = `client:${subject}`;
      const until = await lockedUntil(key);
      if (until !== null && until.getTime() > clock.now().getTime()) {
        await recordFailure(undefined, null, clientIp);
        throw failure();
      }
      const result = await attempt();
      if (result === undefined) {
        await recordFailure(key, null, clientIp);
        throw failure();
      }
      if (until !== null || (await hasFailures(key))) await recordSuccess(key, null);
      return result;
    },

    async setLocked(trx, userId, locked) {
      const subject = accountSubject(userId);
      if (!locked) {
        await trx.deleteFrom('login_failures').where('subject', '=', subject).execute();
        return;
      }
      const now = clock.now();
      await trx
        .insertInto('login_failures')
        .values({ subject, failures: 0, first_failure_at: now, locked_until: FOREVER, lock_count: 0, updated_at: now })
        .onConflict((conflict) => conflict.column('subject').doUpdateSet({ locked_until: FOREVER, updated_at: now }))
        .execute();
    },
  };

  async function hasFailures(subject: string): Promise<boolean> {
    const row = await db
      .selectFrom('login_failures')
      .select('failures')
      .where('subject', '=', subject)
      .executeTakeFirst();
    return row !== undefined;
  }
}

/** Hashes wait their turn per client address (a flood from one address does not delay the others). */
function hashQueueOf(login: PasswordLogin): string {
  return login.clientIp === undefined ? `user:${login.userName.toLowerCase()}` : `ip:${login.clientIp}`;
}

/** WSO2 shows the lock as a claim (`urn:scim:wso2:schema:accountLocked`); it follows the lock table. */
async function writeLockedClaim(db: Executor, userId: string, locked: boolean): Promise<void> {
  await db
    .deleteFrom('user_claims')
    .where('user_id', '=', userId)
    .where('claim_uri', '=', ACCOUNT_LOCKED_CLAIM)
    .execute();
  if (locked) {
    await db
      .insertInto('user_claims')
      .values({ user_id: userId, claim_uri: ACCOUNT_LOCKED_CLAIM, value: 'true' })
      .execute();
  }
}
