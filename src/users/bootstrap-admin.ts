import { randomUUID } from 'node:crypto';
import { recordRevocation } from '../auth/credential-events.js';
import { generatePassword, hashPassword } from '../auth/password.js';
import type { Db } from '../db/executor.js';
import { revokeUserGrants } from '../oauth/grant-repository.js';
import { storeAdminRole } from './user-attributes.js';
import { countAdmins, findUserByUserName, insertUser, lockAdministrators, updateUserRow } from './user-repository.js';

export interface BootstrapResult {
  created: boolean;
  userName: string;
  /** Set only when the password was generated: the caller prints it once. */
  generatedPassword?: string;
}

/** On first start, when no administrator exists, creates one from ADMIN_USERNAME / ADMIN_PASSWORD. */
export async function ensureAdministrator(
  db: Db,
  userName: string,
  password: string | undefined,
  now: Date,
): Promise<BootstrapResult> {
  // Every start but the first ends here; the others hash before the transaction (scrypt never runs inside one).
  if ((await countAdmins(db)) > 0) return { created: false, userName };
  const actualPassword = password ?? generatePassword();
  const passwordHash = await hashPassword(actualPassword);
  return db.transaction().execute(async (trx) => {
    // Serialises concurrent first starts of several instances.
    await lockAdministrators(trx);
    if ((await countAdmins(trx)) > 0) return { created: false, userName };
    const existing = await findUserByUserName(trx, userName);
    if (existing !== undefined) {
      throw new Error(`ADMIN_USERNAME: a non-administrator named '${userName}' already exists`);
    }
    const row = await insertUser(trx, {
      id: randomUUID(),
      user_name: userName,
      password_hash: passwordHash,
      is_admin: true,
      created_at: now,
      updated_at: now,
    });
    await storeAdminRole(trx, row.id);
    return { created: true, userName, ...(password === undefined ? { generatedPassword: actualPassword } : {}) };
  });
}

/**
 * The way back from a lost administrator password (`npm run reset-admin-password`): gives ADMIN_USERNAME
 * a new password (ADMIN_PASSWORD, or a generated one the caller prints once) and makes it an active
 * administrator again, creating it when it does not exist.
 */
export async function resetAdministratorPassword(
  db: Db,
  userName: string,
  password: string | undefined,
  now: Date,
): Promise<BootstrapResult> {
  const actualPassword = password ?? generatePassword();
  const passwordHash = await hashPassword(actualPassword);
  const created = await db.transaction().execute(async (trx) => {
    await lockAdministrators(trx);
    const existing = await findUserByUserName(trx, userName);
    if (existing === undefined) {
      const user = { id: randomUUID(), user_name: userName, password_hash: passwordHash, is_admin: true };
      await insertUser(trx, { ...user, created_at: now, updated_at: now });
      await storeAdminRole(trx, user.id);
      return true;
    }
    await updateUserRow(trx, existing.id, {
      password_hash: passwordHash,
      is_admin: true,
      active: true,
      updated_at: now,
    });
    await storeAdminRole(trx, existing.id);
    // As any password reset: the old password and the logins made with it die on every running instance.
    await revokeUserGrants(trx, existing.id, now);
    await recordRevocation(trx, [{ kind: 'user', id: existing.id }]);
    return false;
  });
  return { created, userName, ...(password === undefined ? { generatedPassword: actualPassword } : {}) };
}
