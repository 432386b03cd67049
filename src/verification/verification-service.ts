import { randomUUID } from 'node:crypto';
import { type AuditEvent, type RequestContext, recordAuditEvent } from '../audit/audit-log.js';
import type { VerificationCodeRow } from '../db/database.js';
import type { Db, Trx } from '../db/executor.js';
import { AppError } from '../errors/app-error.js';
import { giveBackHit, hitLimit, hitLimits } from '../limits/rate-limiter.js';
import type { Clock } from '../shared/clock.js';
import { hmacHex } from '../shared/crypto.js';
import { enqueueSms } from '../sms/outbox-repository.js';
import { readMobileState, withMobileState } from '../users/mobile-claims.js';
import { lockUserWithAttributes, saveUserChanges, type UserAttributes } from '../users/user-attributes.js';
import { findUserByUserName } from '../users/user-repository.js';
import { checkDestination, type DestinationPolicy, numberKey, sameNumberUnder } from './destination-policy.js';
import { confirmNumber, VERIFICATION_SCENARIOS, type VerificationScenario } from './mobile-update-rules.js';
import { codeHmac, codeMatches, generateCode, lookupHmac, type OtpCharset } from './otp.js';
import { renderVerificationSms } from './sms-text.js';
import {
  deleteCode,
  deleteCodesOfUser,
  findCodeByLookup,
  findCodeOfUser,
  findCodesOfUser,
  insertCodeUnlessTaken,
  recordFailedAttempt,
} from './verification-repository.js';

export interface VerificationSettings {
  otpLength: number;
  otpCharset: OtpCharset;
  otpTtlSeconds: number;
  otpMaxAttempts: number;
  multipleNumbers: boolean;
  privilegedVerificationEnabled: boolean;
  smsTemplate: string;
  resendCooldownSeconds: number;
  smsPerNumberPerDay: number;
  smsPerUserPerDay: number;
  requestsPerIpPerHour: number;
  destinations: DestinationPolicy;
}

export interface VerificationServiceDeps {
  db: Db;
  clock: Clock;
  otpKey: Buffer;
  /** Seals queued SMS texts (they carry the code). */
  smsBodyKey: Buffer;
  /** Keys the hashed names of rate-limit buckets (numbers and addresses are never stored whole). */
  bucketKey: Buffer;
  settings: VerificationSettings;
  /** Told after a commit that queued an SMS, so the dispatcher sends it right away. */
  onSmsQueued: () => void;
  /** Told each verification event recorded (for /metrics). */
  onAuditEvent?: (type: AuditEvent['type']) => void;
}

export interface RecoveryProperty {
  key: string;
  value: string;
}

/** What validate and resend tell the caller, as response headers, whatever the outcome. */
export const ATTEMPTS_REMAINING_HEADER = 'x-verification-attempts-remaining';
export const RESEND_AFTER_HEADER = 'x-verification-resend-after';

type Outcome =
  | { kind: 'ok'; userId: string; userName: string }
  | { kind: 'invalid'; hints: Record<string, string> }
  | { kind: 'expired'; hints: Record<string, string> }
  | { kind: 'locked'; retryAfterSeconds: number };

const MAX_CODE_COLLISION_RETRIES = 20;
const DAY_SECONDS = 86_400;

export type VerificationService = ReturnType<typeof createVerificationService>;

export function createVerificationService(deps: VerificationServiceDeps) {
  const { db, clock, otpKey, settings } = deps;
  const bucketName = (kind: string, value: string) => `${kind}:${hmacHex(deps.bucketKey, kind, value).slice(0, 32)}`;
  const audit = async (trx: Trx, event: AuditEvent, context: RequestContext) => {
    await recordAuditEvent(trx, event, context, clock.now());
    deps.onAuditEvent?.(event.type);
  };

  /** Issues a fresh code for `number` and queues its SMS, inside the caller's transaction. */
  async function startVerification(
    trx: Trx,
    target: { userId: string; scenario: VerificationScenario; number: string },
    context: RequestContext,
    resend = false,
  ): Promise<void> {
    const destination = checkDestination(target.number, settings.destinations);
    await enforceSmsQuotas(trx, target.userId, target.number);
    await deleteCodesOfUser(trx, target.userId);
    const now = clock.now();
    const expiresAt = new Date(now.getTime() + settings.otpTtlSeconds * 1000);
    for (let attempt = 0; attempt < MAX_CODE_COLLISION_RETRIES; attempt++) {
      const code = generateCode(settings.otpLength, settings.otpCharset);
      const inserted = await insertCodeUnlessTaken(trx, {
        id: randomUUID(),
        userId: target.userId,
        scenario: target.scenario,
        number: target.number,
        codeHmac: codeHmac(otpKey, target, code),
        lookupHmac: lookupHmac(otpKey, code),
        createdAt: now,
        expiresAt,
      });
      if (inserted) {
        await enqueueSms(trx, deps.smsBodyKey, {
          userId: target.userId,
          purpose: target.scenario,
          to: destination.e164 ?? target.number,
          body: renderVerificationSms(settings.smsTemplate, code, settings.otpTtlSeconds),
          now,
          expiresAt,
        });
        const type = resend ? 'CODE_RESENT' : 'VERIFICATION_STARTED';
        await audit(
          trx,
          { type, userId: target.userId, number: target.number, details: { scenario: target.scenario } },
          context,
        );
        return;
      }
    }
    throw new AppError('SERVICE_UNAVAILABLE', 'Could not issue a unique verification code; try again');
  }

  /**
   * A write asked to verify `number`. `repeat`: it is the number already pending, so this is a resend:
   * within the resend cooldown the live code stays and nothing is sent. Answers whether an SMS was queued.
   */
  async function requestVerification(
    trx: Trx,
    target: { userId: string; scenario: VerificationScenario; number: string },
    context: RequestContext,
    repeat: boolean,
  ): Promise<boolean> {
    if (repeat) {
      const existing = await findCodeOfUser(trx, target.userId, target.scenario);
      if (existing !== undefined && existing.number === target.number && resendWaitSeconds(existing) > 0) {
        return false;
      }
    }
    await startVerification(trx, target, context, repeat);
    return true;
  }

  /** Limits on paid messages: per destination number and per user, per day, across instances. */
  async function enforceSmsQuotas(trx: Trx, userId: string, number: string): Promise<void> {
    const now = clock.now();
    const checks = [
      {
        bucket: bucketName('sms:number', numberKey(number, settings.destinations)),
        limit: settings.smsPerNumberPerDay,
      },
      { bucket: `sms:user:${userId}`, limit: settings.smsPerUserPerDay },
    ];
    const refused = (await hitLimits(trx, checks, DAY_SECONDS, now)).find((decision) => !decision.allowed);
    if (refused !== undefined) {
      throw new AppError('SMS_QUOTA_EXCEEDED', 'Too many verification messages today; try again later', {
        retryAfterSeconds: refused.retryAfterSeconds,
      });
    }
  }

  async function clearCodes(trx: Trx, userId: string): Promise<void> {
    await deleteCodesOfUser(trx, userId);
  }

  /**
   * Per client IP, counted before any work (so concurrent guesses cannot overrun it), in its own statement. Only
   * failures keep their count: a request that succeeds gives its hit back, so users behind one NAT or proxy who
   * spend their codes do not lock out everyone else there; wrong codes and refused requests still add up.
   */
  async function withIpLimit<T>(context: RequestContext, work: () => Promise<T>): Promise<T> {
    if (context.clientIp === null) return work();
    const bucket = bucketName('verification:ip', context.clientIp);
    const decision = await hitLimit(db, bucket, 3600, settings.requestsPerIpPerHour, clock.now());
    if (!decision.allowed) {
      throw new AppError('TOO_MANY_REQUESTS', 'Too many verification requests from this address; try again later', {
        retryAfterSeconds: decision.retryAfterSeconds,
      });
    }
    const result = await work();
    // The success stands even if this write fails: a hit not given back only counts as one failure.
    await giveBackHit(db, bucket, decision.windowStart).catch(() => undefined);
    return result;
  }

  /** The caller's own code (/me/validate-code). Someone else's code is simply invalid. */
  async function validateOwnCode(userId: string, code: string, context: RequestContext): Promise<void> {
    await withIpLimit(context, async () => {
      const outcome = await db.transaction().execute(async (trx) => {
        const user = await lockUserWithAttributes(trx, userId);
        if (user === undefined) return { kind: 'invalid', hints: {} } as const;
        const codes = await findCodesOfUser(trx, userId);
        const live = codes.filter((row) => isLive(row));
        // A dead code answers the same whatever was submitted: no comparison, so no oracle.
        if (live.length === 0) return deadCodeOutcome(trx, codes, context);
        const match = live.find((row) => codeMatches(otpKey, bindingOf(row), code, row.code_hmac));
        if (match === undefined) {
          // Every wrong guess is counted, what caps brute force. Guesses at one user's codes take turns on the
          // user's row lock, so counting after the comparison, in the same transaction, lets none slip past the cap.
          await recordFailedAttempt(
            trx,
            live.map((row) => row.id),
          );
          return recordWrongGuess(trx, userId, live, context);
        }
        return consume(trx, match, user.attributes, context);
      });
      expectOk(outcome);
    });
  }

  /** What /me/validate-code answers while the caller's only codes are used up or expired. */
  async function deadCodeOutcome(
    trx: Trx,
    codes: readonly VerificationCodeRow[],
    context: RequestContext,
  ): Promise<Outcome> {
    if (codes.length === 0) return { kind: 'invalid', hints: {} };
    const locked = codes.filter((row) => row.failed_attempts >= settings.otpMaxAttempts);
    if (locked.length > 0) {
      return { kind: 'locked', retryAfterSeconds: Math.max(1, ...locked.map((row) => resendWaitSeconds(row))) };
    }
    for (const row of codes) {
      await audit(trx, { type: 'CODE_EXPIRED', userId: row.user_id, number: row.number }, context);
    }
    return { kind: 'expired', hints: hintsFor(codes, 0) };
  }

  /** Audits a wrong guess (already counted) and tells the caller what is left. */
  async function recordWrongGuess(
    trx: Trx,
    userId: string,
    live: readonly VerificationCodeRow[],
    context: RequestContext,
  ): Promise<Outcome> {
    for (const row of live) {
      const locked = row.failed_attempts + 1 >= settings.otpMaxAttempts;
      await audit(trx, { type: locked ? 'CODE_LOCKED' : 'WRONG_CODE', userId, number: row.number }, context);
    }
    const remaining = Math.min(
      ...live.map((row) => settings.otpMaxAttempts - row.failed_attempts - 1),
      settings.otpMaxAttempts,
    );
    return { kind: 'invalid', hints: hintsFor(live, Math.max(0, remaining)) };
  }

  function hintsFor(rows: readonly VerificationCodeRow[], attemptsRemaining: number): Record<string, string> {
    const resendAfter = Math.max(0, ...rows.map((row) => resendWaitSeconds(row)));
    return { [ATTEMPTS_REMAINING_HEADER]: String(attemptsRemaining), [RESEND_AFTER_HEADER]: String(resendAfter) };
  }

  function resendWaitSeconds(row: VerificationCodeRow): number {
    const readyAt = row.created_at.getTime() + settings.resendCooldownSeconds * 1000;
    return Math.max(0, Math.ceil((readyAt - clock.now().getTime()) / 1000));
  }

  /** An administrator submits a user's code; the code identifies the user (/validate-code). */
  async function validateCodeOnBehalf(
    code: string,
    context: RequestContext,
  ): Promise<{ userId: string; userName: string }> {
    if (!settings.privilegedVerificationEnabled) {
      throw new AppError(
        'PRIVILEGED_VERIFICATION_DISABLED',
        'Mobile number verification by privileged users is not enabled.',
      );
    }
    return withIpLimit(context, async () => {
      const outcome = await db.transaction().execute(async (trx) => {
        const found = await findCodeByLookup(trx, lookupHmac(otpKey, code));
        const user = found === undefined ? undefined : await lockUserWithAttributes(trx, found.user_id);
        if (found === undefined || user === undefined) return { kind: 'invalid', hints: {} } as const;
        // Re-read under the user lock: a concurrent request may have consumed or replaced it. Here the code
        // alone names the user, so a dead code answers exactly as an unknown one.
        const current = await findCodeOfUser(trx, found.user_id, found.scenario);
        if (
          current === undefined ||
          !isLive(current) ||
          !codeMatches(otpKey, bindingOf(current), code, current.code_hmac)
        ) {
          return { kind: 'invalid', hints: {} } as const;
        }
        return consume(trx, current, user.attributes, context);
      });
      const { userId, userName } = expectOk(outcome);
      return { userId, userName };
    });
  }

  function isLive(row: VerificationCodeRow): boolean {
    return row.failed_attempts < settings.otpMaxAttempts && row.expires_at.getTime() > clock.now().getTime();
  }

  /** Confirms a live code that matched: its number becomes verified. */
  /** `attributes`: the user's, read under its row lock. */
  async function consume(
    trx: Trx,
    row: VerificationCodeRow,
    attributes: UserAttributes,
    context: RequestContext,
  ): Promise<Outcome> {
    const state = readMobileState(attributes);
    if (state.pending !== row.number || !isScenario(row.scenario)) {
      // The number this code was sent to is no longer the pending one: the code is stale.
      await deleteCode(trx, row.id);
      return { kind: 'invalid', hints: {} };
    }
    if (!(await deleteCode(trx, row.id))) return { kind: 'invalid', hints: {} };
    const next = confirmNumber(
      state,
      row.scenario,
      row.number,
      settings.multipleNumbers,
      sameNumberUnder(settings.destinations),
    );
    const user = await saveUserChanges(trx, row.user_id, {
      before: attributes,
      after: withMobileState(attributes, next),
      now: clock.now(),
    });
    await audit(
      trx,
      { type: 'VERIFIED', userId: row.user_id, number: row.number, details: { scenario: row.scenario } },
      context,
    );
    return { kind: 'ok', userId: user.id, userName: user.user_name };
  }

  async function resendOwnCode(
    userId: string,
    properties: readonly RecoveryProperty[],
    context: RequestContext,
  ): Promise<Record<string, string>> {
    return withIpLimit(context, async () => {
      const scenario = parseRecoveryScenario(properties);
      const nothingPending = () =>
        new AppError(
          'INVALID_RECOVERY_SCENARIO',
          `No pending mobile number verification for recovery scenario '${scenario}'`,
        );
      return resend(userId, scenario, context, nothingPending);
    });
  }

  /**
   * WSO2's answer to nothing pending, an unknown user and an unknown realm is one and the same, so the
   * caller learns nothing about which user names exist.
   */
  async function resendCodeOnBehalf(
    user: { username: string; realm?: string | undefined },
    properties: readonly RecoveryProperty[],
    context: RequestContext,
  ): Promise<Record<string, string>> {
    return withIpLimit(context, async () => {
      const scenario = parseRecoveryScenario(properties);
      const notFound = () =>
        new AppError(
          'RECOVERY_DATA_NOT_FOUND',
          'User recovery data is not found. Please re-initiate the recovery flow.',
        );
      const knownRealm = user.realm === undefined || user.realm.toUpperCase() === 'PRIMARY';
      const found = knownRealm ? await findUserByUserName(db, user.username) : undefined;
      if (found === undefined) throw notFound();
      return resend(found.id, scenario, context, notFound);
    });
  }

  async function resend(
    userId: string,
    scenario: VerificationScenario,
    context: RequestContext,
    nothingPending: () => AppError,
  ): Promise<Record<string, string>> {
    await db.transaction().execute(async (trx) => {
      const user = await lockUserWithAttributes(trx, userId);
      if (user === undefined) throw nothingPending();
      const existing = await findCodeOfUser(trx, userId, scenario);
      const pending = readMobileState(user.attributes).pending;
      if (existing === undefined || pending !== existing.number) throw nothingPending();
      const wait = resendWaitSeconds(existing);
      if (wait > 0) {
        throw new AppError('RESEND_COOLDOWN', `A new code can be requested in ${wait} seconds`, {
          retryAfterSeconds: wait,
          headers: { [RESEND_AFTER_HEADER]: String(wait) },
        });
      }
      await startVerification(trx, { userId, scenario, number: existing.number }, context, true);
    });
    deps.onSmsQueued();
    return {
      [ATTEMPTS_REMAINING_HEADER]: String(settings.otpMaxAttempts),
      [RESEND_AFTER_HEADER]: String(settings.resendCooldownSeconds),
    };
  }

  /**
   * The hints for the user's live code, if any: SCIM reads and writes send them so a UI can show the cooldown.
   * Only a code for the pending number can be used (see consume), so without one there is nothing to read.
   */
  async function pendingCodeHints(user: { id: string; attributes: UserAttributes }): Promise<Record<string, string>> {
    const pending = readMobileState(user.attributes).pending;
    if (pending === undefined) return {};
    const live = (await findCodesOfUser(db, user.id)).filter((row) => isLive(row) && row.number === pending);
    if (live.length === 0) return {};
    const remaining = Math.min(...live.map((row) => settings.otpMaxAttempts - row.failed_attempts));
    return hintsFor(live, Math.max(0, remaining));
  }

  return {
    requestVerification,
    pendingCodeHints,
    clearCodes,
    validateOwnCode,
    validateCodeOnBehalf,
    resendOwnCode,
    resendCodeOnBehalf,
  };
}

function bindingOf(row: VerificationCodeRow) {
  return { userId: row.user_id, scenario: row.scenario, number: row.number };
}

function isScenario(value: string): value is VerificationScenario {
  return (VERIFICATION_SCENARIOS as readonly string[]).includes(value);
}

/** WSO2 echoes the code in the description; we do not, so error bodies and logs never carry one. */
function expectOk(outcome: Outcome): Extract<Outcome, { kind: 'ok' }> {
  switch (outcome.kind) {
    case 'ok':
      return outcome;
    case 'expired':
      throw new AppError('CODE_EXPIRED', 'Expired code. Request a new code.', { headers: outcome.hints });
    case 'locked':
      throw new AppError(
        'CODE_ATTEMPTS_EXCEEDED',
        'Too many failed attempts: this code is no longer valid. Request a new code.',
        {
          retryAfterSeconds: outcome.retryAfterSeconds,
          headers: { [ATTEMPTS_REMAINING_HEADER]: '0', [RESEND_AFTER_HEADER]: String(outcome.retryAfterSeconds) },
        },
      );
    case 'invalid':
      throw new AppError('CODE_INVALID', 'Invalid code.', { headers: outcome.hints });
  }
}

/** WSO2's `properties: [{key: "RecoveryScenario", value}]`, with its error code for every problem. */
export function parseRecoveryScenario(properties: readonly RecoveryProperty[]): VerificationScenario {
  const matches = properties.filter((property) => property.key === 'RecoveryScenario');
  if (matches.length === 0) {
    throw new AppError(
      'INVALID_RECOVERY_SCENARIO',
      "Invalid recovery scenario: the 'RecoveryScenario' property is missing",
    );
  }
  if (matches.length > 1) {
    throw new AppError(
      'INVALID_RECOVERY_SCENARIO',
      "Invalid recovery scenario: 'RecoveryScenario' is given more than once",
    );
  }
  const value = matches[0]?.value ?? '';
  if (!isScenario(value)) throw new AppError('INVALID_RECOVERY_SCENARIO', `Invalid recovery scenario: '${value}'`);
  return value;
}
