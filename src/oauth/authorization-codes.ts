import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db, Executor } from '../db/executor.js';

/** RFC 6749 section 4.1.2 recommends ten minutes at most; one is plenty for a redirect. */
export const AUTHORIZATION_CODE_TTL_SECONDS = 60;

/** RFC 7636 section 4.1: code_verifier = 43*128 unreserved; an S256 challenge is base64url(SHA-256) = 43 chars. */
export const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
export const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export interface NewAuthorizationCode {
  clientId: string;
  userId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: readonly string[];
  now: Date;
}

export interface RedeemedCode {
  clientId: string;
  userId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: string[];
  expiresAt: Date;
}

export type Redemption =
  | { kind: 'ok'; code: RedeemedCode }
  | { kind: 'unknown' }
  /** Used before: the grant it produced (if any) must be revoked. */
  | { kind: 'reused'; grantId: string | null };

/** Stores a fresh code (only its hash) and returns the code itself, for the redirect. */
export async function issueAuthorizationCode(db: Executor, input: NewAuthorizationCode): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  await db
    .insertInto('oauth_authorization_codes')
    .values({
      code_hash: hashCode(code),
      client_id: input.clientId,
      user_id: input.userId,
      redirect_uri: input.redirectUri,
      code_challenge: input.codeChallenge,
      scope: input.scopes.join(' '),
      created_at: input.now,
      expires_at: new Date(input.now.getTime() + AUTHORIZATION_CODE_TTL_SECONDS * 1000),
      used_at: null,
      grant_id: null,
    })
    .execute();
  return code;
}

/** Marks the code used, in the caller's transaction; a code is redeemed at most once, whatever happens next. */
export async function redeemAuthorizationCode(trx: Executor, code: string, now: Date): Promise<Redemption> {
  const row = await trx
    .selectFrom('oauth_authorization_codes')
    .selectAll()
    .where('code_hash', '=', hashCode(code))
    .forUpdate()
    .executeTakeFirst();
  if (row === undefined) return { kind: 'unknown' };
  if (row.used_at !== null) return { kind: 'reused', grantId: row.grant_id };
  await trx
    .updateTable('oauth_authorization_codes')
    .set({ used_at: now })
    .where('code_hash', '=', row.code_hash)
    .execute();
  return {
    kind: 'ok',
    code: {
      clientId: row.client_id,
      userId: row.user_id,
      redirectUri: row.redirect_uri,
      codeChallenge: row.code_challenge,
      scopes: row.scope.split(' ').filter((scope) => scope !== ''),
      expiresAt: row.expires_at,
    },
  };
}

export async function recordGrantOfCode(trx: Executor, code: string, grantId: string): Promise<void> {
  await trx
    .updateTable('oauth_authorization_codes')
    .set({ grant_id: grantId })
    .where('code_hash', '=', hashCode(code))
    .execute();
}

/** Used and expired codes are kept a while so a replay can still be recognised, then dropped. */
export async function deleteStaleAuthorizationCodes(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('oauth_authorization_codes').where('expires_at', '<', before).execute();
}

/** RFC 7636 section 4.6, S256: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, compared in constant time. */
export function pkceMatches(codeVerifier: string, codeChallenge: string): boolean {
  if (!CODE_VERIFIER.test(codeVerifier)) return false;
  const actual = Buffer.from(createHash('sha256').update(codeVerifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(codeChallenge);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Codes are 256 random bits: a plain SHA-256 keeps a leaked table useless. */
function hashCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}
