import type { User } from './user.js';
import type { UserAttributes } from './user-attributes.js';

/**
 * What a client asks a user to become, in domain terms. The SCIM layer builds it from a POST or PUT body,
 * or by applying PATCH operations to the current user; the user service checks and writes it. Account
 * fields are `unknown` because checking them (a required userName, a boolean `active`, who may grant the
 * admin role) is the service's rule, not the wire format's.
 */
export interface UserDraft {
  userName: unknown;
  active: unknown;
  /** undefined: unchanged. */
  password: unknown;
  /** Whether the request names `roles` (the items themselves are in `attributes.values`). */
  rolesWritten: boolean;
  attributes: UserAttributes;
  /** Which WSO2 lists the request itself wrote (a PUT without them leaves them as they are). */
  listsWritten: { all: boolean; verified: boolean };
  /** The request-only verifyMobile flag. */
  verifyMobile: boolean;
  /**
   * The values the request gives the verification state (phoneVerified, pendingMobileNumber), one per place it
   * names them (both extensions carry them); undefined: removed. A POST or PUT lists only what its body names.
   */
  verificationState: { phoneVerified: readonly unknown[]; pendingMobileNumber: readonly unknown[] };
  /** The request names accountLocked (a PUT without it keeps the lock). */
  accountLockedWritten: boolean;
}

/** An update (PUT or PATCH on /Users/{id} or /Me): the draft, computed from the locked current user. */
export interface UserUpdate {
  draft(current: User): UserDraft;
  /** PUT: what the body leaves out of the verification state keeps its value; PATCH: the result is complete. */
  method: 'PUT' | 'PATCH';
  /** Lists not written stay as they are (PUT), rather than being removed (PATCH starts from the current user). */
  listsOmittedMeanUnchanged: boolean;
  /**
   * No roles given keeps the roles, the admin role included (clients replacing a profile must not demote by
   * omission); PATCH starts from the current resource, so roles missing afterwards means they were removed.
   */
  rolesOmittedMeanUnchanged: boolean;
  /**
   * The request may set a password (an over-approximation: a false positive costs one read). The service then
   * hashes it before its transaction, from an unlocked read of the user, so scrypt never runs under a row lock.
   */
  mayWritePassword: boolean;
}
