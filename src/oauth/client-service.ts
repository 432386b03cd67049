import { randomBytes } from 'node:crypto';
import { CredentialCache } from '../auth/credential-cache.js';
import type { Revocations } from '../auth/credential-events.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { isKnownScope } from '../auth/permissions.js';
import type { OAuthClientRow } from '../db/database.js';
import type { Db } from '../db/executor.js';
import { AppError } from '../errors/app-error.js';
import type { Clock } from '../shared/clock.js';
import { revokeClientGrants } from './grant-repository.js';

export const GRANT_TYPES = ['password', 'client_credentials', 'refresh_token', 'authorization_code'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface OAuthClient {
  clientId: string;
  name: string;
  grantTypes: GrantType[];
  scopes: string[];
  /** Exact redirect URIs of the authorization code grant; a path is relative to this server's base URL. */
  redirectUris: string[];
  /** No secret: the authorization code grant with PKCE only (the Console, My Account). */
  isPublic: boolean;
  /** Moves on each secret rotation; tokens issued under an older one are refused. */
  secretVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewClient {
  name: string;
  grantTypes: string[];
  scopes: string[];
  redirectUris?: string[] | undefined;
}

/** A public client this server registers for its own browser applications. */
export interface BuiltInClient {
  clientId: string;
  name: string;
  scopes: readonly string[];
  redirectPath: string;
}

export interface ClientService {
  create(input: NewClient): Promise<{ client: OAuthClient; clientSecret: string }>;
  list(): Promise<OAuthClient[]>;
  get(clientId: string): Promise<OAuthClient>;
  find(clientId: string): Promise<OAuthClient | undefined>;
  delete(clientId: string): Promise<void>;
  rotateSecret(clientId: string): Promise<{ client: OAuthClient; clientSecret: string }>;
  /** The client, when the secret is right; undefined otherwise (unknown client or wrong secret). */
  authenticate(clientId: string, clientSecret: string): Promise<OAuthClient | undefined>;
  /** Creates or refreshes a built-in public client (at every start, so its settings follow the code). */
  registerBuiltIn(client: BuiltInClient): Promise<void>;
}

export interface ClientServiceDeps {
  db: Db;
  clock: Clock;
  /** Caches verified secrets like Basic credentials, so each token request does not pay for scrypt. */
  cacheTtlMs: number;
  revocations: Revocations;
}

/** A dummy hash to compare against for unknown clients, so timing does not tell which ids exist. */
let dummyHash: Promise<string> | undefined;

export function createClientService(deps: ClientServiceDeps): ClientService {
  const { db, clock } = deps;
  const cache = new CredentialCache(deps.cacheTtlMs);

  async function find(clientId: string): Promise<OAuthClient | undefined> {
    const row = await db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row === undefined ? undefined : toClient(row);
  }

  async function get(clientId: string): Promise<OAuthClient> {
    const client = await find(clientId);
    if (client === undefined) throw new AppError('OAUTH_CLIENT_NOT_FOUND', `No OAuth client with id ${clientId}`);
    return client;
  }

  return {
    async create(input) {
      const { name, grantTypes, scopes, redirectUris } = validate(input);
      const clientId = randomBytes(18).toString('base64url');
      const clientSecret = newSecret();
      const now = clock.now();
      const row = await db
        .insertInto('oauth_clients')
        .values({
          client_id: clientId,
          name,
          secret_hash: await hashPassword(clientSecret),
          grant_types: grantTypes.join(' '),
          scopes: scopes.join(' '),
          redirect_uris: redirectUris.join(' '),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { client: toClient(row), clientSecret };
    },

    async list() {
      const rows = await db
        .selectFrom('oauth_clients')
        .selectAll()
        .orderBy('created_at')
        .orderBy('client_id')
        .execute();
      return rows.map(toClient);
    },

    get,
    find,

    async delete(clientId) {
      // Its logins go with it (foreign keys); its tokens and those logins' tokens die on every instance.
      const result = await deps.revocations.transaction(db, async (trx, revoke) => {
        const deleted = await trx.deleteFrom('oauth_clients').where('client_id', '=', clientId).executeTakeFirst();
        if (deleted.numDeletedRows > 0n) revoke({ kind: 'client', id: clientId });
        return deleted;
      });
      if (result.numDeletedRows === 0n) {
        throw new AppError('OAUTH_CLIENT_NOT_FOUND', `No OAuth client with id ${clientId}`);
      }
    },

    async rotateSecret(clientId) {
      if ((await get(clientId)).isPublic) {
        throw new AppError('INVALID_VALUE', 'A public client has no secret to rotate');
      }
      const clientSecret = newSecret();
      const secretHash = await hashPassword(clientSecret);
      const now = clock.now();
      // The old secret's tokens die with it: client tokens by version, user logins through the client by grant.
      const row = await deps.revocations.transaction(db, async (trx, revoke) => {
        const updated = await trx
          .updateTable('oauth_clients')
          .set((eb) => ({ secret_hash: secretHash, updated_at: now, secret_version: eb('secret_version', '+', 1) }))
          .where('client_id', '=', clientId)
          .returningAll()
          .executeTakeFirst();
        if (updated !== undefined) {
          await revokeClientGrants(trx, clientId, now);
          revoke({ kind: 'client', id: clientId });
        }
        return updated;
      });
      if (row === undefined) throw new AppError('OAUTH_CLIENT_NOT_FOUND', `No OAuth client with id ${clientId}`);
      return { client: toClient(row), clientSecret };
    },

    async authenticate(clientId, clientSecret) {
      const row = await db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      if (row === undefined || row.secret_hash === null) {
        dummyHash ??= hashPassword(newSecret());
        await verifyPassword(clientSecret, await dummyHash, `client:${clientId}`);
        return undefined;
      }
      const now = Date.now();
      if (!cache.isVerified(clientId, clientSecret, row.secret_hash, now)) {
        if (!(await verifyPassword(clientSecret, row.secret_hash, `client:${clientId}`))) return undefined;
        cache.remember(clientId, clientSecret, row.secret_hash, now);
      }
      return toClient(row);
    },

    async registerBuiltIn(client) {
      const now = clock.now();
      const values = {
        name: client.name,
        secret_hash: null,
        grant_types: 'authorization_code',
        scopes: client.scopes.join(' '),
        redirect_uris: client.redirectPath,
        updated_at: now,
      };
      await db
        .insertInto('oauth_clients')
        .values({ client_id: client.clientId, created_at: now, ...values })
        .onConflict((conflict) => conflict.column('client_id').doUpdateSet(values))
        .execute();
    },
  };
}

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

function validate(input: NewClient): {
  name: string;
  grantTypes: GrantType[];
  scopes: string[];
  redirectUris: string[];
} {
  const name = input.name.trim();
  if (name === '') throw new AppError('INVALID_VALUE', "'name' must not be blank");
  const grantTypes = [...new Set(input.grantTypes)];
  const unknownGrant = grantTypes.find((grant) => !isGrantType(grant));
  if (unknownGrant !== undefined) {
    throw new AppError('INVALID_VALUE', `Unknown grant type '${unknownGrant}'; use ${GRANT_TYPES.join(', ')}`);
  }
  if (grantTypes.length === 0) throw new AppError('INVALID_VALUE', "'grantTypes' must name at least one grant type");
  if (grantTypes.includes('refresh_token') && !grantTypes.includes('password')) {
    throw new AppError('INVALID_VALUE', "'refresh_token' only makes sense together with 'password'");
  }
  const redirectUris = [...new Set(input.redirectUris ?? [])];
  for (const uri of redirectUris) assertRedirectUri(uri);
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
    throw new AppError('INVALID_VALUE', "'authorization_code' needs at least one entry in 'redirectUris'");
  }
  const scopes = [...new Set(input.scopes)];
  const unknownScope = scopes.find((scope) => !isKnownScope(scope));
  if (unknownScope !== undefined) throw new AppError('INVALID_VALUE', `Unknown scope '${unknownScope}'`);
  return { name, grantTypes: grantTypes.filter(isGrantType), scopes, redirectUris };
}

/** RFC 6749 section 3.1.2: an absolute URI without a fragment; http(s) so a browser can follow it. */
function assertRedirectUri(uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new AppError('INVALID_VALUE', `Redirect URI '${uri.slice(0, 200)}' is not an absolute URI`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AppError('INVALID_VALUE', 'Redirect URIs must use https (or http)');
  }
  if (uri.includes('#') || /\s/.test(uri)) {
    throw new AppError('INVALID_VALUE', 'Redirect URIs must not contain a fragment or white space');
  }
}

function isGrantType(value: string): value is GrantType {
  return (GRANT_TYPES as readonly string[]).includes(value);
}

function toClient(row: OAuthClientRow): OAuthClient {
  return {
    clientId: row.client_id,
    name: row.name,
    grantTypes: splitSpaces(row.grant_types).filter(isGrantType),
    scopes: splitSpaces(row.scopes),
    redirectUris: splitSpaces(row.redirect_uris),
    isPublic: row.secret_hash === null,
    secretVersion: row.secret_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function splitSpaces(value: string): string[] {
  return value.split(' ').filter((part) => part !== '');
}
