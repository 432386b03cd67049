import { AppError } from '../errors/app-error.js';
import { isObject } from '../shared/values.js';
import type { User } from '../users/user.js';
import type { UserDraft, UserUpdate } from '../users/user-commands.js';
import {
  applyPatch,
  type IgnoredAttributes,
  normalizeUserInput,
  type PatchOperation,
  type ScimObject,
} from './patch.js';
import { resourceToAttributes, toCanonicalResource } from './user-mapping.js';
import { ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA } from './user-schema.js';

/**
 * SCIM requests → user domain commands (src/users/user-commands.ts). Attributes the server does not define
 * are collected into `ignored` (the route logs them) and never stored.
 */

/** A POST body: the new user. */
export function createDraft(body: ScimObject, ignored: IgnoredAttributes = []): UserDraft {
  return draftOf(normalizeUserInput(body, ignored), 'PUT');
}

/** PUT (RFC 7644 3.5.1): the body replaces the user. */
export function replaceCommand(body: ScimObject, ignored: IgnoredAttributes = []): UserUpdate {
  const draft = draftOf(normalizeUserInput(body, ignored), 'PUT');
  return {
    draft: () => draft,
    method: 'PUT',
    listsOmittedMeanUnchanged: true,
    rolesOmittedMeanUnchanged: true,
    mayWritePassword: draft.password !== undefined,
  };
}

/** PATCH (RFC 7644 3.5.2): the operations, applied in order to the current user. */
export function patchCommand(operations: readonly PatchOperation[], ignored: IgnoredAttributes = []): UserUpdate {
  if (operations.some(removesPassword)) {
    // Write-only and never returned: "removing" it could only lock the account out silently.
    throw new AppError('MUTABILITY', "Attribute 'password' cannot be removed; replace it with a new one");
  }
  return {
    draft: (current: User) => draftOf(applyPatch(toCanonicalResource(current), operations, ignored), 'PATCH'),
    method: 'PATCH',
    listsOmittedMeanUnchanged: false,
    rolesOmittedMeanUnchanged: false,
    mayWritePassword: operations.some(mayWritePassword),
  };
}

const STATE_SCHEMAS = [ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA] as const;

/**
 * The values the request gives an attribute of both extensions. PATCH results are complete (absent: removed);
 * a POST or PUT body leaves out what it does not change, as provisioning clients do not know these attributes.
 */
function writtenValues(desired: ScimObject, name: string, method: 'PUT' | 'PATCH'): unknown[] {
  return STATE_SCHEMAS.flatMap((schema) => {
    const extension = desired[schema];
    const present = isObject(extension) && name in extension;
    if (!present && method === 'PUT') return [];
    return [present ? extension[name] : undefined];
  });
}

function draftOf(desired: ScimObject, method: 'PUT' | 'PATCH'): UserDraft {
  const wso2 = desired[WSO2_USER_SCHEMA];
  const written = (name: string) => isObject(wso2) && name in wso2;
  return {
    userName: desired.userName,
    active: desired.active,
    password: desired.password,
    rolesWritten: desired.roles !== undefined,
    attributes: resourceToAttributes(desired),
    listsWritten: { all: written('mobileNumbers'), verified: written('verifiedMobileNumbers') },
    // A request-only flag, in either extension (WSO2 7.x: urn:scim:wso2:schema); resourceToAttributes never stores it.
    verifyMobile: STATE_SCHEMAS.some((schema) => {
      const extension = desired[schema];
      return isObject(extension) && extension.verifyMobile === true;
    }),
    verificationState: {
      phoneVerified: writtenValues(desired, 'phoneVerified', method),
      pendingMobileNumber: writtenValues(desired, 'pendingMobileNumber', method),
    },
    accountLockedWritten: written('accountLocked'),
  };
}

/**
 * The password is write-only (never in the current resource), so only an operation naming it can set it: by
 * path, or as a key of its value (or of an extension object in it). A miss only costs a retry (the service
 * hashes a password its transaction finds unhashed, then starts again); it never stores one unhashed.
 */
function mayWritePassword(operation: PatchOperation): boolean {
  if (/password/i.test(operation.path ?? '')) return true;
  const { value } = operation;
  if (!isObject(value)) return false;
  return Object.entries(value).some(
    ([key, inner]) => /password/i.test(key) || (isObject(inner) && Object.keys(inner).some((k) => /password/i.test(k))),
  );
}

function removesPassword(operation: PatchOperation): boolean {
  return (
    operation.op.toLowerCase() === 'remove' &&
    /^(urn:ietf:params:scim:schemas:core:2\.0:user:)?password$/i.test(operation.path?.trim() ?? '')
  );
}
