import { randomUUID } from 'node:crypto';
import type { VerificationCodeRow } from '../db/database.js';
import type { Db, Trx } from '../db/executor.js';
import { AppError } from '../errors/app-error.js';
import type { Clock } from '../shared/clock.js';
import { enqueueSms } from '../sms/outbox-repository.js';
import { loadClaims, writeClaimChanges } from '../users/claim-repository.js';
import { readMobileState, withMobileState } from '../users/mobile-claims.js';
import { bumpUserVersion, findUserByUserName, lockUserById } from '../users/user-repository.js';
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
}

export interface VerificationServiceDeps {
  db: Db;
  clock: Clock;
  otpKey: Buffer;
  settings: VerificationSettings;
  /** Told after a commit that queued an SMS, so the dispatcher sends it right away. */
  onSmsQueued: () => void;
}

export interface RecoveryProperty {
  key: string;
  value: string;
}

type Outcome =
  | { kind: 'ok'; userId: string; userName: string }
  | { kind: 'invalid' }
  | { kind: 'expired' }
  | { kind: 'locked' };

const MAX_CODE_COLLISION_RETRIES = 20;

export type VerificationService = ReturnType<typeof createVerificationService>;

export function createVerificationService(deps: VerificationServiceDeps) {
  const { db, clock, otpKey, settings } = deps;

  /** Issues a fresh code for `number` and queues its SMS, inside the caller's transaction. */
  async function startVerification(
    trx: Trx,
    target: { userId: string; scenario: VerificationScenario; number: string },
  ): Promise<void> {
    await deleteCodesOfUser(trx, target.userId);
    const now = clock.now();
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
        expiresAt: new Date(now.getTime() + settings.otpTtlSeconds * 1000),
      });
      if (inserted) {
        await enqueueSms(trx, {
          userId: target.userId,
          purpose: target.scenario,
          to: target.number,
          body: renderVerificationSms(settings.smsTemplate, code, settings.otpTtlSeconds),
          now,
        });
        return;
      }
    }
    throw new AppError('SERVICE_UNAVAILABLE', 'Could not issue a unique verification code; try again');
  }

  async function clearCodes(trx: Trx, userId: string): Promise<void> {
    await deleteCodesOfUser(trx, userId);
  }

  /** The caller's own code (/me/validate-code). Someone else's code is simply invalid. */
  async function validateOwnCode(userId: string, code: string): Promise<void> {
    const outcome = await db.transaction().execute(async (trx) => {
      if ((await lockUserById(trx, userId)) === undefined) return { kind: 'invalid' } as const;
      const codes = await findCodesOfUser(trx, userId);
      const match = codes.find((row) => codeMatches(otpKey, bindingOf(row), code, row.code_hmac));
      if (match === undefined) {
        // Counting a wrong guess is the one write a rejected request makes: it is what caps brute force.
        await recordFailedAttempt(
          trx,
          codes.filter((row) => isLive(row)).map((row) => row.id),
        );
        return { kind: 'invalid' } as const;
      }
      return consume(trx, match);
    });
    expectOk(outcome);
  }

  /** An administrator submits a user's code; the code identifies the user (/validate-code). */
  async function validateCodeOnBehalf(code: string): Promise<{ userId: string; userName: string }> {
    if (!settings.privilegedVerificationEnabled) {
      throw new AppError(
        'PRIVILEGED_VERIFICATION_DISABLED',
        'Mobile number verification by privileged users is not enabled.',
      );
    }
    const outcome = await db.transaction().execute(async (trx) => {
      const found = await findCodeByLookup(trx, lookupHmac(otpKey, code));
      if (found === undefined || (await lockUserById(trx, found.user_id)) === undefined) {
        return { kind: 'invalid' } as const;
      }
      // Re-read under the user lock: a concurrent request may have consumed or replaced it.
      const current = await findCodeOfUser(trx, found.user_id, found.scenario);
      if (current === undefined || !codeMatches(otpKey, bindingOf(current), code, current.code_hmac)) {
        return { kind: 'invalid' } as const;
      }
      return consume(trx, current);
    });
    const { userId, userName } = expectOk(outcome);
    return { userId, userName };
  }

  function isLive(row: VerificationCodeRow): boolean {
    return row.failed_attempts < settings.otpMaxAttempts && row.expires_at.getTime() > clock.now().getTime();
  }

  async function consume(trx: Trx, row: VerificationCodeRow): Promise<Outcome> {
    if (row.failed_attempts >= settings.otpMaxAttempts) return { kind: 'locked' };
    if (row.expires_at.getTime() <= clock.now().getTime()) return { kind: 'expired' };
    const claims = await loadClaims(trx, row.user_id);
    const state = readMobileState(claims);
    if (state.pending !== row.number || !isScenario(row.scenario)) {
      // The number this code was sent to is no longer the pending one: the code is stale.
      await deleteCode(trx, row.id);
      return { kind: 'invalid' };
    }
    if (!(await deleteCode(trx, row.id))) return { kind: 'invalid' };
    const next = confirmNumber(state, row.scenario, row.number, settings.multipleNumbers);
    await writeClaimChanges(trx, row.user_id, claims, withMobileState(claims, next));
    const user = await bumpUserVersion(trx, row.user_id, clock.now());
    return { kind: 'ok', userId: user.id, userName: user.user_name };
  }

  async function resendOwnCode(userId: string, properties: readonly RecoveryProperty[]): Promise<void> {
    const scenario = parseRecoveryScenario(properties);
    await db.transaction().execute(async (trx) => {
      if ((await lockUserById(trx, userId)) === undefined) {
        throw new AppError('USER_NOT_FOUND', 'User not found');
      }
      await reissue(trx, userId, scenario);
    });
    deps.onSmsQueued();
  }

  async function resendCodeOnBehalf(
    user: { username: string; realm?: string | undefined },
    properties: readonly RecoveryProperty[],
  ): Promise<void> {
    const scenario = parseRecoveryScenario(properties);
    if (user.realm !== undefined && user.realm.toUpperCase() !== 'PRIMARY') {
      throw new AppError('USER_NOT_FOUND', `User '${user.username}' not found in realm '${user.realm}'`);
    }
    const found = await findUserByUserName(db, user.username);
    if (found === undefined) throw new AppError('USER_NOT_FOUND', `User '${user.username}' not found`);
    await resendOwnCode(found.id, [{ key: 'RecoveryScenario', value: scenario }]);
  }

  async function reissue(trx: Trx, userId: string, scenario: VerificationScenario): Promise<void> {
    const existing = await findCodeOfUser(trx, userId, scenario);
    const pending = readMobileState(await loadClaims(trx, userId)).pending;
    if (existing === undefined || pending !== existing.number) {
      throw new AppError(
        'INVALID_RECOVERY_SCENARIO',
        `No pending mobile number verification for recovery scenario '${scenario}'`,
      );
    }
    await startVerification(trx, { userId, scenario, number: existing.number });
  }

  return {
    startVerification,
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
      throw new AppError('CODE_EXPIRED', 'Expired code. Request a new code.');
    case 'locked':
      throw new AppError('CODE_INVALID', 'Invalid code. Too many failed attempts: request a new code.');
    case 'invalid':
      throw new AppError('CODE_INVALID', 'Invalid code.');
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
