import { randomBytes } from 'node:crypto';
import type { UserRow } from '../db/database.js';
import type { Executor } from '../db/executor.js';
import { findUserByUserName } from '../users/user-repository.js';
import { hashPassword, verifyPassword } from './password.js';

let dummyPasswordHash: Promise<string> | undefined;

/**
 * The one check of a user name and password for interactive sign-in (the sign-in page and the password grant):
 * the active user, or undefined for an unknown user, a wrong password or a disabled account alike.
 * An unknown user still costs a hash comparison, so timing does not tell which names exist.
 */
export async function verifyUserCredentials(
  db: Executor,
  userName: string,
  password: string,
): Promise<UserRow | undefined> {
  const user = await findUserByUserName(db, userName);
  const hash = user?.password_hash ?? null;
  if (user === undefined || hash === null) {
    dummyPasswordHash ??= hashPassword(randomBytes(16).toString('base64url'));
    await verifyPassword(password, await dummyPasswordHash);
    return undefined;
  }
  if (!(await verifyPassword(password, hash)) || !user.active) return undefined;
  return user;
}
