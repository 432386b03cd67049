import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { type RequestContext, recordAuditEvent } from '../audit/audit-log.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { hashPassword } from '../auth/password.js';
import type { Actor, AdminActor } from '../auth/principal.js';
import type { Db, Trx } from '../db/executor.js';
import { AppError } from '../errors/app-error.js';
import { revokeUserGrants } from '../oauth/grant-repository.js';
import type { Clock } from '../shared/clock.js';
import { maskPhoneNumber } from '../shared/mask.js';
import { isUuid } from '../shared/values.js';
import { type MobileUpdatePlan, planMobileUpdate } from '../verification/mobile-update-rules.js';
import type { VerificationService } from '../verification/verification-service.js';
import { CLAIM, type ClaimMap, splitList } from './claims.js';
import { primaryMobile, readMobileState, withMobileState } from './mobile-claims.js';
import { ADMIN_ROLE, matchesEtag, type User, userFromRow } from './user.js';
import {
  findUsersWithAttributes,
  findUserWithAttributes,
  type UserAttributes,
  writeUserAttributeChanges,
} from './user-attributes.js';
import type { UserDraft, UserUpdate } from './user-commands.js';
import { listUserIds, type UserListQuery } from './user-list.js';
import {
  bumpUserVersion,
  countActiveAdminsExcept,
  deleteUserById,
  findUserByUserName,
  insertUser,
  lockAdministrators,
  lockUserById,
} from './user-repository.js';

export interface MobilePolicySettings {
  verificationEnabled: boolean;
  skipForPrivileged: boolean;
  requireVerifyFlag: boolean;
  multipleNumbers: boolean;
  sameNumber: (a: string, b: string) => boolean;
}

export interface UserServiceDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  verification: VerificationService;
  /** Administrators lock and unlock accounts through `urn:scim:wso2:schema:accountLocked`. */
  loginThrottle: Pick<LoginThrottle, 'setLocked'>;
  mobilePolicy: MobilePolicySettings;
  onSmsQueued: () => void;
  /** Longest a SCIM listing query may run (SCIM_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs: number;
}

/** Who writes, on whose behalf, and how the request described itself. */
interface WriteContext {
  actor: Actor;
  request: RequestContext;
  update: UserUpdate;
}

export type UserService = ReturnType<typeof createUserService>;

const NO_ATTRIBUTES: UserAttributes = { claims: new Map(), values: new Map() };

export function createUserService(deps: UserServiceDeps) {
  const { db, clock, verification } = deps;

  async function getUser(id: string): Promise<User> {
    const found = isUuid(id) ? await findUserWithAttributes(db, id) : undefined;
    if (found === undefined) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
    return userFromRow(found.row, found.attributes);
  }

  async function listUsers(query: UserListQuery): Promise<{ totalResults: number; users: User[] }> {
    // A statement timeout bounds what one filtered listing can cost the database (SET LOCAL: this transaction only).
    // Repeatable read: the count and the page (read from the end when it is in the second half) agree.
    const { totalResults, found } = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        await sql`select set_config('statement_timeout', ${String(deps.statementTimeoutMs)}, true)`.execute(trx);
        const page = await listUserIds(trx, query);
        return { totalResults: page.totalResults, found: await findUsersWithAttributes(trx, page.ids) };
      });
    return { totalResults, users: found.map(({ row, attributes }) => userFromRow(row, attributes)) };
  }

  /** Creating a user never starts verification: the number is stored as given, unverified. */
  async function createUser(actor: Actor, draft: UserDraft): Promise<User> {
    const fields = await accountFields(draft, undefined, actor, false);
    const { attributes } = draft;
    const mobile = readMobileState(attributes);
    // pendingMobileNumber in the body is ignored, as read-only attributes are (creating never starts verification);
    // an administrator may create a user whose primary number is already verified (an import).
    const phoneVerified = draft.verificationState.phoneVerified.some((value) => value === true);
    if (!deps.mobilePolicy.multipleNumbers && (mobile.all.length > 0 || mobile.verified.length > 0)) {
      throw new AppError('MUTABILITY', 'mobileNumbers and verifiedMobileNumbers are not writable');
    }
    const now = clock.now();
    return db.transaction().execute(async (trx) => {
      await assertUserNameFree(trx, fields.userName, undefined);
      const row = await insertUser(trx, {
        id: randomUUID(),
        user_name: fields.userName,
        password_hash: fields.passwordHash ?? null,
        active: fields.active,
        is_admin: fields.isAdmin,
        created_at: now,
        updated_at: now,
      });
      const final = withMobileState(attributes, { ...mobile, phoneVerified, pending: undefined });
      await writeUserAttributeChanges(trx, row.id, NO_ATTRIBUTES, final);
      return userFromRow(row, final);
    });
  }

  /** PUT or PATCH on /Users/{id} or /Me. */
  async function updateUser(
    actor: Actor,
    id: string,
    update: UserUpdate,
    request: RequestContext,
    ifMatch?: string,
  ): Promise<User> {
    return writeUser(id, ifMatch, { actor, request, update });
  }

  /** One path for PUT and PATCH on /Users and /Me: lock, compute, apply the mobile rules, write. */
  async function writeUser(id: string, ifMatch: string | undefined, context: WriteContext): Promise<User> {
    if (!isUuid(id)) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
    const result = await db.transaction().execute(async (trx) => {
      const found = await findUserWithAttributes(trx, id, true);
      if (found === undefined) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
      const current = userFromRow(found.row, found.attributes);
      if (ifMatch !== undefined && !matchesEtag(current, ifMatch)) {
        throw new AppError('PRECONDITION_FAILED', 'The resource has changed since the version given in If-Match');
      }
      return applyUpdate(trx, current, context.update.draft(current), context);
    });
    if (result.smsQueued) deps.onSmsQueued();
    return result.user;
  }

  async function applyUpdate(
    trx: Trx,
    current: User,
    draft: UserDraft,
    context: WriteContext,
  ): Promise<{ user: User; smsQueued: boolean }> {
    const { update } = context;
    const fields = await accountFields(draft, current, context.actor, update.rolesOmittedMeanUnchanged);
    assertMayTouchAdministrator(context.actor, current, fields);
    if (current.isAdmin && current.active && !(fields.isAdmin && fields.active)) {
      await assertAnotherAdministrator(trx, current.id, 'The last administrator cannot be demoted or deactivated');
    }
    const stateWrite = requestedVerificationState(draft, current.attributes.claims, context);
    const stored = readMobileState(current.attributes);
    const plan = planMobileUpdate(
      stateWrite.cancelPending ? { ...stored, pending: undefined } : stored,
      {
        primary: primaryMobile(draft.attributes.values),
        ...requestedLists(draft, update),
        verifyMobile: draft.verifyMobile,
      },
      {
        enabled: deps.mobilePolicy.verificationEnabled,
        privilegedBypass: deps.mobilePolicy.skipForPrivileged && context.actor.kind === 'admin',
        requireVerifyFlag: deps.mobilePolicy.requireVerifyFlag,
        multipleNumbers: deps.mobilePolicy.multipleNumbers,
        sameNumber: deps.mobilePolicy.sameNumber,
      },
    );
    if (fields.userName.toLowerCase() !== current.userName.toLowerCase()) {
      await assertUserNameFree(trx, fields.userName, current.id);
    }
    const finalState =
      stateWrite.phoneVerified === undefined ? plan.state : { ...plan.state, phoneVerified: stateWrite.phoneVerified };
    const final = keptLock(withMobileState(draft.attributes, finalState), current, draft, update);
    await applyAccountLock(trx, current, final.claims, context.actor);
    await writeUserAttributeChanges(trx, current.id, current.attributes, final);
    const row = await bumpUserVersion(trx, current.id, clock.now(), {
      user_name: fields.userName,
      active: fields.active,
      is_admin: fields.isAdmin,
      ...(fields.passwordHash === undefined ? {} : { password_hash: fields.passwordHash }),
    });
    await recordStateWrite(trx, current, stateWrite, finalState.primary, context.request);
    if (losesCredentials(current, fields)) {
      const revoked = await revokeUserGrants(trx, current.id, clock.now());
      deps.logger.info({ event: 'user_tokens_revoked', userId: current.id, grants: revoked }, 'user tokens revoked');
    }
    const smsQueued = await carryOut(trx, current, plan, context);
    return { user: userFromRow(row, final), smsQueued };
  }

  /** A change of `accountLocked` is an administrator locking or unlocking the account. */
  async function applyAccountLock(trx: Trx, current: User, finalClaims: ClaimMap, actor: Actor): Promise<void> {
    const wasLocked = current.attributes.claims.get(CLAIM.accountLocked) === 'true';
    const locked = finalClaims.get(CLAIM.accountLocked) === 'true';
    if (wasLocked === locked) return;
    if (actor.kind !== 'admin') {
      throw new AppError('MUTABILITY', "Attribute 'accountLocked' can only be changed by an administrator");
    }
    await deps.loginThrottle.setLocked(trx, current.id, locked);
  }

  /** An administrator's direct write of the verification state: the cancelled code dies; both are audited. */
  async function recordStateWrite(
    trx: Trx,
    user: User,
    write: VerificationStateWrite,
    primary: string | undefined,
    request: RequestContext,
  ): Promise<void> {
    const now = clock.now();
    if (write.cancelPending) {
      await verification.clearCodes(trx, user.id);
      const number = user.attributes.claims.get(CLAIM.pendingMobileNumber);
      await recordAuditEvent(trx, { type: 'VERIFICATION_CANCELLED', userId: user.id, number }, request, now);
    }
    if (write.phoneVerified !== undefined) {
      const details = { phoneVerified: write.phoneVerified };
      await recordAuditEvent(
        trx,
        { type: 'PHONE_VERIFIED_SET', userId: user.id, number: primary, details },
        request,
        now,
      );
    }
  }

  /** Starts, repeats or cancels verification as planned; answers whether an SMS was queued. */
  async function carryOut(trx: Trx, user: User, plan: MobileUpdatePlan, context: WriteContext): Promise<boolean> {
    const { actor } = context;
    let smsQueued = false;
    if (plan.verification !== null) {
      const { repeat, ...target } = plan.verification;
      smsQueued = await verification.requestVerification(trx, { userId: user.id, ...target }, context.request, repeat);
    } else if (plan.clearCodes) {
      await verification.clearCodes(trx, user.id);
    }
    if (plan.skipped !== null) {
      await recordAuditEvent(
        trx,
        {
          type: plan.skipped === 'PRIVILEGED_BYPASS' ? 'PRIVILEGED_BYPASS' : 'VERIFICATION_SKIPPED',
          userId: user.id,
          number: plan.state.primary,
          details: { reason: plan.skipped },
        },
        context.request,
        clock.now(),
      );
    }
    if (plan.skipped !== null || smsQueued) {
      deps.logger.info(
        {
          event: smsQueued ? 'mobile_verification_started' : 'mobile_verification_skipped',
          reason: plan.skipped ?? undefined,
          scenario: plan.verification?.scenario,
          number: plan.verification ? maskPhoneNumber(plan.verification.number) : undefined,
          userId: user.id,
          actorId: actor.userId,
          persona: actor.kind,
        },
        'mobile number update',
      );
    }
    return smsQueued;
  }

  async function deleteUser(actor: AdminActor, id: string): Promise<void> {
    if (!isUuid(id)) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
    await db.transaction().execute(async (trx) => {
      const row = await lockUserById(trx, id);
      if (row === undefined) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
      if (row.is_admin && !actor.mayManageAdministrators) {
        throw new AppError('FORBIDDEN', 'Deleting an administrator needs the right to manage administrators');
      }
      if (row.is_admin && row.active) {
        await assertAnotherAdministrator(trx, id, 'The last administrator cannot be deleted');
      }
      await deleteUserById(trx, id);
    });
  }

  return { getUser, listUsers, createUser, updateUser, deleteUser };
}

/**
 * An administrator's password, `active` flag and role are authority: whoever could change them
 * could make themselves administrator. Only a caller who may manage administrators touches them.
 */
function assertMayTouchAdministrator(actor: Actor, current: User, fields: AccountFields): void {
  if (actor.kind !== 'admin' || actor.mayManageAdministrators || !current.isAdmin) return;
  if (fields.passwordHash !== undefined || fields.active !== current.active) {
    throw new AppError(
      'FORBIDDEN',
      "Changing an administrator's password or 'active' needs the right to manage administrators",
    );
  }
}

/** A new password, a disabled account or a lost admin role: every token issued before must die. */
function losesCredentials(current: User, fields: AccountFields): boolean {
  return (
    fields.passwordHash !== undefined || (current.active && !fields.active) || (current.isAdmin && !fields.isAdmin)
  );
}

interface AccountFields {
  userName: string;
  active: boolean;
  isAdmin: boolean;
  passwordHash: string | undefined;
}

/** Someone must still be able to administer the server after `id` loses its rights. */
async function assertAnotherAdministrator(trx: Trx, id: string, detail: string): Promise<void> {
  await lockAdministrators(trx);
  if ((await countActiveAdminsExcept(trx, id)) === 0) throw new AppError('MUTABILITY', detail);
}

/** The column-backed attributes: userName, active, password and the admin role. */
async function accountFields(
  desired: UserDraft,
  current: User | undefined,
  actor: Actor,
  rolesOmittedMeanUnchanged: boolean,
): Promise<AccountFields> {
  const userName = desired.userName;
  if (typeof userName !== 'string' || userName.trim() === '') {
    throw new AppError('INVALID_VALUE', "Attribute 'userName' is required");
  }
  if (userName.length > 255 || hasControlCharacter(userName)) {
    throw new AppError('INVALID_VALUE', "Attribute 'userName' is too long or contains control characters");
  }
  const active = desired.active === undefined ? true : desired.active;
  if (typeof active !== 'boolean') throw new AppError('INVALID_VALUE', "Attribute 'active' must be a boolean");
  const password = desired.password;
  if (password !== undefined && (typeof password !== 'string' || password.length < 1 || password.length > 1024)) {
    throw new AppError('INVALID_VALUE', "Attribute 'password' must be a non-empty string");
  }
  const isAdmin = requestedAdminRole(desired, current, actor, rolesOmittedMeanUnchanged);
  return {
    userName: userName.trim(),
    active,
    isAdmin,
    passwordHash: typeof password === 'string' ? await hashPassword(password) : undefined,
  };
}

function requestedAdminRole(
  desired: UserDraft,
  current: User | undefined,
  actor: Actor,
  omittedMeansUnchanged: boolean,
): boolean {
  const currentlyAdmin = current?.isAdmin ?? false;
  const roles = desired.roles;
  if (roles === undefined && omittedMeansUnchanged) return currentlyAdmin;
  const values = roles ?? [];
  const unknown = values.filter(
    (value) => typeof value !== 'string' || !['admin', 'internal/everyone'].includes(value.toLowerCase()),
  );
  if (unknown.length > 0) throw new AppError('INVALID_VALUE', `Unknown role: ${JSON.stringify(unknown[0])}`);
  const wantsAdmin = values.some((value) => typeof value === 'string' && value.toLowerCase() === ADMIN_ROLE);
  if (wantsAdmin !== currentlyAdmin && actor.kind !== 'admin') {
    throw new AppError('MUTABILITY', "Attribute 'roles' can only be changed by an administrator");
  }
  if (wantsAdmin !== currentlyAdmin && actor.kind === 'admin' && !actor.mayManageAdministrators) {
    throw new AppError(
      'FORBIDDEN',
      "Granting or revoking the 'admin' role needs the right to manage administrators (internal_role_mgt_update)",
    );
  }
  return wantsAdmin;
}

/** A PUT that leaves `accountLocked` out (provisioning clients resend whole users) keeps the lock. */
function keptLock(attributes: UserAttributes, current: User, draft: UserDraft, update: UserUpdate): UserAttributes {
  const currentValue = current.attributes.claims.get(CLAIM.accountLocked);
  if (draft.accountLockedWritten || update.method !== 'PUT' || currentValue === undefined) return attributes;
  return { ...attributes, claims: new Map([...attributes.claims, [CLAIM.accountLocked, currentValue]]) };
}

function requestedLists(
  draft: UserDraft,
  update: UserUpdate,
): { all: string[] | undefined; verified: string[] | undefined } {
  const read = (written: boolean, uri: string) =>
    update.listsOmittedMeanUnchanged && !written ? undefined : splitList(draft.attributes.claims.get(uri));
  return {
    all: read(draft.listsWritten.all, CLAIM.mobileNumbers),
    verified: read(draft.listsWritten.verified, CLAIM.verifiedMobileNumbers),
  };
}

async function assertUserNameFree(trx: Trx, userName: string, exceptId: string | undefined): Promise<void> {
  const existing = await findUserByUserName(trx, userName);
  if (existing !== undefined && existing.id !== exceptId) {
    throw new AppError('UNIQUENESS', `User name '${userName}' is already taken`);
  }
}

function hasControlCharacter(text: string): boolean {
  return [...text].some((character) => {
    const code = character.codePointAt(0) ?? 0;
    return code < 0x20 || code === 0x7f;
  });
}

/** What a write asks of the verification state itself (phoneVerified, pendingMobileNumber), in either extension. */
interface VerificationStateWrite {
  /** Set by an administrator; undefined: unchanged. */
  phoneVerified: boolean | undefined;
  /** An administrator removed the pending number: the verification is cancelled. */
  cancelPending: boolean;
}

/**
 * Administrators may write phoneVerified (imported users keep their verified state) and remove
 * pendingMobileNumber; through /Me both are read-only: a PATCH changing them is refused, a PUT body's
 * values are ignored (RFC 7644 section 3.3 on read-only attributes).
 */
function requestedVerificationState(draft: UserDraft, claims: ClaimMap, context: WriteContext): VerificationStateWrite {
  const { method } = context.update;
  const currentVerified = claims.get(CLAIM.phoneVerified) === 'true';
  const currentPending = claims.get(CLAIM.pendingMobileNumber);
  const verifiedChange = draft.verificationState.phoneVerified
    .map((value) => value === true)
    .find((value) => value !== currentVerified);
  const pendingChange = draft.verificationState.pendingMobileNumber.filter((value) => value !== currentPending);
  const changed = verifiedChange !== undefined || pendingChange.length > 0;
  if (context.actor.kind !== 'admin') {
    if (changed && method === 'PATCH') {
      throw new AppError('MUTABILITY', 'phoneVerified and pendingMobileNumber are read-only through /Me');
    }
    return { phoneVerified: undefined, cancelPending: false };
  }
  // A PUT body's values for it are ignored, as for read-only attributes; a PATCH setting one is refused.
  if (method === 'PATCH' && pendingChange.some((value) => value !== undefined)) {
    throw new AppError(
      'MUTABILITY',
      "Attribute 'pendingMobileNumber' is set by verification; it can only be removed, to cancel the verification",
    );
  }
  const removed = pendingChange.some((value) => value === undefined);
  return { phoneVerified: verifiedChange, cancelPending: removed && currentPending !== undefined };
}
