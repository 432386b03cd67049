import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type RequestContext, recordAuditEvent } from '../audit/audit-log.js';
import { hashPassword } from '../auth/password.js';
import type { Actor } from '../auth/principal.js';
import type { Db, Trx } from '../db/executor.js';
import { AppError } from '../errors/app-error.js';
import type { Clock } from '../shared/clock.js';
import { maskPhoneNumber } from '../shared/mask.js';
import { isUuid } from '../shared/values.js';
import { type MobileUpdatePlan, planMobileUpdate } from '../verification/mobile-update-rules.js';
import type { VerificationService } from '../verification/verification-service.js';
import { CLAIM, splitList } from './claims.js';
import { primaryMobile, readMobileState, withMobileState } from './mobile-claims.js';
import { ADMIN_ROLE, matchesEtag, type User, userFromRow } from './user.js';
import {
  loadUserAttributes,
  loadUserAttributesForUsers,
  type UserAttributes,
  writeUserAttributeChanges,
} from './user-attributes.js';
import type { UserDraft, UserUpdate } from './user-commands.js';
import { listUserRows, type UserListQuery } from './user-list.js';
import {
  bumpUserVersion,
  countActiveAdminsExcept,
  deleteUserById,
  findUserById,
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
  mobilePolicy: MobilePolicySettings;
  onSmsQueued: () => void;
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
    const row = isUuid(id) ? await findUserById(db, id) : undefined;
    if (row === undefined) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
    return userFromRow(row, await loadUserAttributes(db, row.id));
  }

  async function listUsers(query: UserListQuery): Promise<{ totalResults: number; users: User[] }> {
    const { totalResults, rows } = await listUserRows(db, query);
    const attributes = await loadUserAttributesForUsers(
      db,
      rows.map((row) => row.id),
    );
    return { totalResults, users: rows.map((row) => userFromRow(row, attributes.get(row.id) ?? NO_ATTRIBUTES)) };
  }

  /** Creating a user never starts verification: the number is stored as given, unverified. */
  async function createUser(actor: Actor, draft: UserDraft): Promise<User> {
    const fields = await accountFields(draft, undefined, actor, false);
    const { attributes } = draft;
    const mobile = readMobileState(attributes);
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
      const final = withMobileState(attributes, { ...mobile, phoneVerified: false, pending: undefined });
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
      const row = await lockUserById(trx, id);
      if (row === undefined) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
      const current = userFromRow(row, await loadUserAttributes(trx, id));
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
    if (current.isAdmin && current.active && !(fields.isAdmin && fields.active)) {
      await assertAnotherAdministrator(trx, current.id, 'The last administrator cannot be demoted or deactivated');
    }
    const plan = planMobileUpdate(
      readMobileState(current.attributes),
      {
        primary: primaryMobile(draft.attributes.values),
        primaryMentioned: update.primaryMentioned,
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
    const final = withMobileState(draft.attributes, plan.state);
    await writeUserAttributeChanges(trx, current.id, current.attributes, final);
    const row = await bumpUserVersion(trx, current.id, clock.now(), {
      user_name: fields.userName,
      active: fields.active,
      is_admin: fields.isAdmin,
      ...(fields.passwordHash === undefined ? {} : { password_hash: fields.passwordHash }),
    });
    await carryOut(trx, current, plan, context);
    return { user: userFromRow(row, final), smsQueued: plan.verification !== null };
  }

  async function carryOut(trx: Trx, user: User, plan: MobileUpdatePlan, context: WriteContext): Promise<void> {
    const { actor } = context;
    if (plan.verification !== null) {
      await verification.startVerification(trx, { userId: user.id, ...plan.verification }, context.request);
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
    if (plan.skipped !== null || plan.verification !== null) {
      deps.logger.info(
        {
          event: plan.verification === null ? 'mobile_verification_skipped' : 'mobile_verification_started',
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
  }

  async function deleteUser(id: string): Promise<void> {
    if (!isUuid(id)) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
    await db.transaction().execute(async (trx) => {
      const row = await lockUserById(trx, id);
      if (row === undefined) throw new AppError('USER_NOT_FOUND', `User not found: ${id}`);
      if (row.is_admin && row.active) {
        await assertAnotherAdministrator(trx, id, 'The last administrator cannot be deleted');
      }
      await deleteUserById(trx, id);
    });
  }

  return { getUser, listUsers, createUser, updateUser, deleteUser };
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
  return wantsAdmin;
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
