import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type RequestContext, recordAuditEvent } from '../audit/audit-log.js';
import type { Revocations, Revoke } from '../auth/credential-events.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { hashPassword } from '../auth/password.js';
import type { Actor, AdminActor } from '../auth/principal.js';
import type { Db, Trx } from '../db/executor.js';
import { withStatementTimeout } from '../db/statement-timeout.js';
import { AppError } from '../errors/app-error.js';
import type { UserGroupsCache } from '../groups/user-groups-cache.js';
import { revokeUserGrants } from '../oauth/grant-repository.js';
import type { Clock } from '../shared/clock.js';
import { maskPhoneNumber } from '../shared/mask.js';
import { isUuid } from '../shared/values.js';
import { type MobileUpdatePlan, planMobileUpdate } from '../verification/mobile-update-rules.js';
import type { VerificationService } from '../verification/verification-service.js';
import { CLAIM, type ClaimMap, splitList } from './claims.js';
import { primaryMobile, readMobileState, withMobileState } from './mobile-claims.js';
import { confersAdministration, effectiveRoles, matchesEtag, type User, userFromRow } from './user.js';
import {
  findUsersWithAttributes,
  findUserWithAttributes,
  lockUserWithAttributes,
  sameItems,
  saveUserChanges,
  type UserAttributes,
  type UserReadOptions,
  type ValueItem,
  writeUserAttributeChanges,
} from './user-attributes.js';
import type { UserDraft, UserUpdate } from './user-commands.js';
import { listUserIds, type UserListQuery } from './user-list.js';
import {
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
  /** A change to what a credential proves (name, password, active, role, lock, existence) reaches every cache. */
  revocations: Revocations;
  mobilePolicy: MobilePolicySettings;
  onSmsQueued: () => void;
  /** Longest a SCIM listing query may run (SCIM_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs: number;
  /**
   * Big `groups` lists kept between reads of a user. Only plain reads use it: a list computed inside a
   * transaction that also changed groups and then rolled back could match a later epoch.
   */
  groupsCache: UserGroupsCache;
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

  async function getUser(id: string, read: UserReadOptions = {}): Promise<User> {
    const found = isUuid(id)
      ? await findUserWithAttributes(db, id, { ...read, groupsCache: deps.groupsCache })
      : undefined;
    if (found === undefined) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
    return userFromRow(found.row, found.attributes, found.groups);
  }

  async function listUsers(
    query: UserListQuery,
    read: UserReadOptions = {},
  ): Promise<{ totalResults: number; users: User[] }> {
    // Repeatable read (withStatementTimeout): the count and the page (read from the end when it is in the second
    // half) agree.
    const { totalResults, found } = await withStatementTimeout(db, deps.statementTimeoutMs, async (trx) => {
      const page = await listUserIds(trx, query);
      return { totalResults: page.totalResults, found: await findUsersWithAttributes(trx, page.ids, read) };
    });
    return { totalResults, users: found.map(({ row, attributes, groups }) => userFromRow(row, attributes, groups)) };
  }

  /** Creating a user never starts verification: the number is stored as given, unverified. */
  async function createUser(actor: Actor, draft: UserDraft): Promise<User> {
    const fields = accountFields(draft, undefined, actor);
    const { attributes } = draft;
    const mobile = readMobileState(attributes);
    // pendingMobileNumber in the body is ignored, as read-only attributes are (creating never starts verification);
    // an administrator may create a user whose primary number is already verified (an import).
    const phoneVerified = draft.verificationState.phoneVerified.some((value) => value === true);
    if (!deps.mobilePolicy.multipleNumbers && (mobile.all.length > 0 || mobile.verified.length > 0)) {
      throw new AppError('MUTABILITY', 'mobileNumbers and verifiedMobileNumbers are not writable');
    }
    // Hashed before the transaction: scrypt never runs while a transaction holds a connection and locks.
    const passwordHash = fields.password === undefined ? null : await hashPassword(fields.password);
    const now = clock.now();
    return db.transaction().execute(async (trx) => {
      await assertUserNameFree(trx, fields.userName, undefined);
      const row = await insertUser(trx, {
        id: randomUUID(),
        user_name: fields.userName,
        password_hash: passwordHash,
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
    read: UserReadOptions = {},
  ): Promise<User> {
    return writeUser(id, ifMatch, { actor, request, update }, read);
  }

  /**
   * One path for PUT and PATCH on /Users and /Me: lock, compute, apply the mobile rules, write. A new password
   * is hashed before the transaction (scrypt takes tens of milliseconds; under the row lock it would hold the
   * user, a pooled connection and, on PGlite, the whole database that long).
   */
  async function writeUser(
    id: string,
    ifMatch: string | undefined,
    context: WriteContext,
    read: UserReadOptions,
  ): Promise<User> {
    if (!isUuid(id)) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
    let hashed = context.update.mayWritePassword ? await hashRequestedPassword(id, context) : undefined;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const result = await deps.revocations.transaction(db, async (trx, revoke) => {
        // The groups are read here too: a write to the user never changes them.
        const found = await lockUserWithAttributes(trx, id, read);
        if (found === undefined) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
        const current = userFromRow(found.row, found.attributes, found.groups);
        if (ifMatch !== undefined && !matchesEtag(current, ifMatch)) {
          throw new AppError('PRECONDITION_FAILED', 'The resource has changed since the version given in If-Match');
        }
        return applyUpdate(trx, current, context.update.draft(current), context, { revoke, hashed });
      });
      if (result.kind === 'written') {
        if (result.smsQueued) deps.onSmsQueued();
        return result.user;
      }
      // The locked user gave a password the unlocked read did not (a PATCH that only applied after a concurrent
      // write): nothing was written; hash it outside the transaction and start again.
      hashed = { password: result.password, hash: await hashPassword(result.password) };
    }
    throw new AppError('SERVICE_UNAVAILABLE', 'The user kept changing during the update; try again');
  }

  /** The password the update sets, hashed, from the user as it is now (no lock); undefined if it sets none. */
  async function hashRequestedPassword(id: string, context: WriteContext): Promise<HashedPassword | undefined> {
    const found = await findUserWithAttributes(db, id);
    if (found === undefined) return undefined;
    let password: string | undefined;
    try {
      password = checkedPassword(context.update.draft(userFromRow(found.row, found.attributes)).password);
    } catch {
      // The transaction computes the draft again and reports what is wrong with it.
      return undefined;
    }
    return password === undefined ? undefined : { password, hash: await hashPassword(password) };
  }

  async function applyUpdate(
    trx: Trx,
    current: User,
    requested: UserDraft,
    context: WriteContext,
    { revoke, hashed }: { revoke: Revoke; hashed: HashedPassword | undefined },
  ): Promise<UpdateResult> {
    const { update } = context;
    const draft = withKeptRoles(requested, current, update);
    const fields = accountFields(draft, current, context.actor);
    if (fields.password !== undefined && fields.password !== hashed?.password) {
      return { kind: 'hash-first', password: fields.password };
    }
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
    const lockChanged = await applyAccountLock(trx, current, final.claims, context.actor);
    const row = await saveUserChanges(trx, current.id, {
      before: current.attributes,
      after: final,
      now: clock.now(),
      row: {
        user_name: fields.userName,
        active: fields.active,
        is_admin: fields.isAdmin,
        ...(fields.password === undefined || hashed === undefined ? {} : { password_hash: hashed.hash }),
      },
    });
    await recordStateWrite(trx, current, stateWrite, finalState.primary, context.request);
    if (losesCredentials(current, fields)) {
      const revoked = await revokeUserGrants(trx, current.id, clock.now());
      deps.logger.info({ event: 'user_tokens_revoked', userId: current.id, grants: revoked }, 'user tokens revoked');
    }
    if (lockChanged || accountChanged(current, fields)) revoke({ kind: 'user', id: current.id });
    const smsQueued = await carryOut(trx, current, plan, context);
    return { kind: 'written', user: userFromRow(row, final, current.groups), smsQueued };
  }

  /** A change of `accountLocked` is an administrator locking or unlocking the account; answers whether it changed. */
  async function applyAccountLock(trx: Trx, current: User, finalClaims: ClaimMap, actor: Actor): Promise<boolean> {
    const wasLocked = current.attributes.claims.get(CLAIM.accountLocked) === 'true';
    const locked = finalClaims.get(CLAIM.accountLocked) === 'true';
    if (wasLocked === locked) return false;
    if (actor.kind !== 'admin') {
      throw new AppError('MUTABILITY', "Attribute 'accountLocked' can only be changed by an administrator");
    }
    await deps.loginThrottle.setLocked(trx, current.id, locked);
    return true;
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
    await deps.revocations.transaction(db, async (trx, revoke) => {
      const row = await lockUserById(trx, id);
      if (row === undefined) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
      if (row.is_admin && !actor.mayManageAdministrators) {
        throw new AppError('FORBIDDEN', 'Deleting an administrator needs the right to manage administrators');
      }
      if (row.is_admin && row.active) {
        await assertAnotherAdministrator(trx, id, 'The last administrator cannot be deleted');
      }
      await deleteUserById(trx, id);
      revoke({ kind: 'user', id });
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
  if (fields.password !== undefined || fields.active !== current.active) {
    throw new AppError(
      'FORBIDDEN',
      "Changing an administrator's password or 'active' needs the right to manage administrators",
    );
  }
}

/** A new password, a disabled account or a lost admin role: every token issued before must die. */
function losesCredentials(current: User, fields: AccountFields): boolean {
  return fields.password !== undefined || (current.active && !fields.active) || (current.isAdmin && !fields.isAdmin);
}

/** What a cached credential proved is no longer so: its name, password, `active` or role changed. */
function accountChanged(current: User, fields: AccountFields): boolean {
  return (
    fields.password !== undefined ||
    fields.userName !== current.userName ||
    fields.active !== current.active ||
    fields.isAdmin !== current.isAdmin
  );
}

interface AccountFields {
  userName: string;
  active: boolean;
  isAdmin: boolean;
  /** The new password in clear (hashed outside any transaction); undefined: unchanged. */
  password: string | undefined;
}

/** A password and its scrypt hash, computed before the write's transaction. */
interface HashedPassword {
  password: string;
  hash: string;
}

type UpdateResult =
  | { kind: 'written'; user: User; smsQueued: boolean }
  /** Nothing written: this password must be hashed first (outside the transaction). */
  | { kind: 'hash-first'; password: string };

/** Someone must still be able to administer the server after `id` loses its rights. */
async function assertAnotherAdministrator(trx: Trx, id: string, detail: string): Promise<void> {
  await lockAdministrators(trx);
  if ((await countActiveAdminsExcept(trx, id)) === 0) throw new AppError('MUTABILITY', detail);
}

/** The column-backed attributes: userName, active, password and the admin flag (from the roles). */
function accountFields(desired: UserDraft, current: User | undefined, actor: Actor): AccountFields {
  const userName = desired.userName;
  if (typeof userName !== 'string' || userName.trim() === '') {
    throw new AppError('INVALID_VALUE', "Attribute 'userName' is required");
  }
  if (userName.length > 255 || hasControlCharacter(userName)) {
    throw new AppError('INVALID_VALUE', "Attribute 'userName' is too long or contains control characters");
  }
  const active = desired.active === undefined ? true : desired.active;
  if (typeof active !== 'boolean') throw new AppError('INVALID_VALUE', "Attribute 'active' must be a boolean");
  const password = checkedPassword(desired.password);
  const isAdmin = requestedAdminRole(desired.attributes.values.get('roles'), current, actor);
  return { userName: userName.trim(), active, isAdmin, password };
}

function checkedPassword(password: unknown): string | undefined {
  if (password !== undefined && (typeof password !== 'string' || password.length < 1 || password.length > 1024)) {
    throw new AppError('INVALID_VALUE', "Attribute 'password' must be a non-empty string");
  }
  return password;
}

/**
 * Roles are data assigned by administrators; the value `admin` is also authority (src/users/user.ts). A user
 * acting on themselves changes no role; granting or revoking `admin` needs the right to manage administrators.
 */
function requestedAdminRole(roles: readonly ValueItem[] | undefined, current: User | undefined, actor: Actor): boolean {
  const currentlyAdmin = current?.isAdmin ?? false;
  const wantsAdmin = confersAdministration(roles);
  if (actor.kind !== 'admin') {
    if (!sameItems(roles, current === undefined ? [] : effectiveRoles(current))) {
      throw new AppError('MUTABILITY', "Attribute 'roles' can only be changed by an administrator");
    }
    return currentlyAdmin;
  }
  if (wantsAdmin !== currentlyAdmin && !actor.mayManageAdministrators) {
    throw new AppError(
      'FORBIDDEN',
      "Granting or revoking the 'admin' role needs the right to manage administrators (internal_role_mgt_update)",
    );
  }
  return wantsAdmin;
}

/** A PUT that leaves `roles` out keeps them all (the admin role included): no demotion by omission. */
function withKeptRoles(draft: UserDraft, current: User, update: UserUpdate): UserDraft {
  if (draft.rolesWritten || !update.rolesOmittedMeanUnchanged) return draft;
  const values = new Map(draft.attributes.values);
  const roles = effectiveRoles(current);
  if (roles.length > 0) values.set('roles', roles);
  else values.delete('roles');
  return { ...draft, attributes: { ...draft.attributes, values } };
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
