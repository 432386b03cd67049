import {
  type CryptoKey,
  calculateJwkThumbprint,
  createLocalJWKSet,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  type LocalJWKSet,
} from 'jose';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { OAuthSigningKeyRow } from '../db/database.js';
import type { Db, Executor } from '../db/executor.js';
import type { Clock } from '../shared/clock.js';
import { decryptText, encryptText } from '../shared/crypto.js';
import { SIGNING_ALGORITHM } from './oauth-settings.js';

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  status: 'active' | 'retired';
  createdAt: Date;
  retiredAt: Date | null;
  /** A retired key stays in the JWKS until then: every token it signed has expired by that time. */
  publishUntil: Date | null;
}

export interface Signer {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
}

export interface SigningKeyStore {
  /** Generates the first key on first start (once, even with several instances starting together). */
  init(): Promise<void>;
  /** The key that signs new tokens. */
  signer(): Promise<Signer>;
  /** The public keys published at /oauth2/jwks: the active one and retired ones still in their window. */
  jwks(): Promise<JSONWebKeySet>;
  /** Key resolver for jose's jwtVerify; an unknown `kid` triggers one (rate-limited) reload, for rotations elsewhere. */
  verificationKey(header: JWSHeaderParameters): Promise<CryptoKey>;
  /** A new key signs from now on; the old one stays published until its tokens have expired. */
  rotate(): Promise<SigningKeyInfo>;
  list(): Promise<SigningKeyInfo[]>;
}

export interface SigningKeyStoreDeps {
  db: Db;
  clock: Clock;
  encryptionKey: Buffer;
  logger: Logger;
  /** How long a retired key stays published: the access-token lifetime (plus a margin added here). */
  accessTokenTtlSeconds: number;
  /** Keys are re-read this often, so a rotation on another instance is picked up (ms). */
  refreshIntervalMs?: number;
}

/** Covers tokens signed by an instance that had not yet seen a rotation done elsewhere. */
const PUBLISH_MARGIN_MS = 5 * 60_000;
const MIN_RELOAD_INTERVAL_MS = 5_000;
const LOCK = sql`select pg_advisory_xact_lock(hashtext('oauth-signing-keys'))`;
const ACTIVE_FIRST = sql<boolean>`retired_at is null`;

interface PublishedKey {
  jwk: JWK;
  /** null: the active key. */
  publishUntil: Date | null;
}

interface Snapshot {
  loadedAt: number;
  signer: Signer | undefined;
  keys: PublishedKey[];
}

export function createSigningKeyStore(deps: SigningKeyStoreDeps): SigningKeyStore {
  const { db, clock, encryptionKey, logger } = deps;
  const refreshIntervalMs = deps.refreshIntervalMs ?? 60_000;
  let snapshot: Snapshot | undefined;
  let keySet: { kids: string; set: LocalJWKSet } | undefined;
  /** When an unknown `kid` last caused a reload: forged tokens must not make every request hit the database. */
  let lastMissReload = 0;

  async function generate(trx: Executor, now: Date): Promise<OAuthSigningKeyRow> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const published: JWK = { ...publicJwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' };
    const privateJwk = await exportJWK(privateKey);
    return trx
      .insertInto('oauth_signing_keys')
      .values({
        kid,
        alg: SIGNING_ALGORITHM,
        public_jwk: JSON.stringify(published),
        private_jwk_encrypted: encryptText(encryptionKey, JSON.stringify(privateJwk)),
        created_at: now,
        retired_at: null,
        publish_until: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async function retireActive(trx: Executor, now: Date): Promise<void> {
    await trx
      .updateTable('oauth_signing_keys')
      .set({
        retired_at: now,
        publish_until: new Date(now.getTime() + deps.accessTokenTtlSeconds * 1000 + PUBLISH_MARGIN_MS),
      })
      .where('retired_at', 'is', null)
      .execute();
    await trx.deleteFrom('oauth_signing_keys').where('publish_until', '<', now).execute();
  }

  async function init(): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await LOCK.execute(trx);
      const active = await trx
        .selectFrom('oauth_signing_keys')
        .select('kid')
        .where('retired_at', 'is', null)
        .executeTakeFirst();
      if (active === undefined) {
        const row = await generate(trx, clock.now());
        logger.info({ kid: row.kid, alg: row.alg }, 'generated the first token-signing key');
      }
    });
    await load();
  }

  /** The active key and retired keys still published (their tokens may not have expired yet). */
  async function publishedKeyRows(now: Date) {
    return db
      .selectFrom('oauth_signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('publish_until', '>', now)]))
      .orderBy(ACTIVE_FIRST, 'desc')
      .orderBy('created_at', 'desc')
      .execute();
  }

  async function load(): Promise<Snapshot> {
    const now = clock.now();
    const rows = await publishedKeyRows(now);
    let signer: Signer | undefined;
    const active = rows.find((row) => row.retired_at === null);
    if (active !== undefined) {
      signer = await importSigner(active);
      if (signer === undefined) {
        // SECRET_KEY changed: the old key can still verify its tokens, but a new one must sign.
        logger.warn({ kid: active.kid }, 'the token-signing key cannot be decrypted (SECRET_KEY changed?); rotating');
        await rotateInTransaction();
        return load();
      }
    }
    const next: Snapshot = {
      loadedAt: Date.now(),
      signer,
      keys: rows.map((row) => ({ jwk: JSON.parse(row.public_jwk) as JWK, publishUntil: row.publish_until })),
    };
    snapshot = next;
    return next;
  }

  async function importSigner(row: OAuthSigningKeyRow): Promise<Signer | undefined> {
    let privateJwk: JWK;
    try {
      privateJwk = JSON.parse(decryptText(encryptionKey, row.private_jwk_encrypted)) as JWK;
    } catch {
      return undefined;
    }
    const privateKey = await importJWK(privateJwk, row.alg);
    if (!isCryptoKey(privateKey)) throw new Error('the signing key did not import as an asymmetric key');
    return { kid: row.kid, alg: row.alg, privateKey };
  }

  async function current(): Promise<Snapshot> {
    if (snapshot === undefined || Date.now() - snapshot.loadedAt > refreshIntervalMs) return load();
    return snapshot;
  }

  function publishedNow(state: Snapshot): JWK[] {
    const now = clock.now().getTime();
    return state.keys
      .filter((key) => key.publishUntil === null || key.publishUntil.getTime() > now)
      .map((key) => key.jwk);
  }

  function keySetOf(state: Snapshot): LocalJWKSet {
    const keys = publishedNow(state);
    const kids = keys.map((key) => key.kid).join(' ');
    if (keySet === undefined || keySet.kids !== kids) keySet = { kids, set: createLocalJWKSet({ keys }) };
    return keySet.set;
  }

  async function rotateInTransaction(): Promise<OAuthSigningKeyRow> {
    return db.transaction().execute(async (trx) => {
      await LOCK.execute(trx);
      const now = clock.now();
      await retireActive(trx, now);
      return generate(trx, now);
    });
  }

  function toInfo(row: OAuthSigningKeyRow): SigningKeyInfo {
    return {
      kid: row.kid,
      alg: row.alg,
      status: row.retired_at === null ? 'active' : 'retired',
      createdAt: row.created_at,
      retiredAt: row.retired_at,
      publishUntil: row.publish_until,
    };
  }

  return {
    init,

    async signer() {
      let state = await current();
      if (state.signer === undefined) {
        await init();
        state = await current();
      }
      if (state.signer === undefined) throw new Error('no token-signing key is available');
      return state.signer;
    },

    async jwks() {
      return { keys: publishedNow(await current()) };
    },

    async verificationKey(header) {
      const state = await current();
      try {
        return await keySetOf(state)(header);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - lastMissReload < MIN_RELOAD_INTERVAL_MS) {
          throw error;
        }
        lastMissReload = Date.now();
        return keySetOf(await load())(header);
      }
    },

    async rotate() {
      const row = await rotateInTransaction();
      await load();
      logger.info({ kid: row.kid }, 'rotated the token-signing key');
      return toInfo(row);
    },

    async list() {
      const rows = await publishedKeyRows(clock.now());
      return rows.map(toInfo);
    },
  };
}

function isCryptoKey(key: CryptoKey | Uint8Array): key is CryptoKey {
  return !(key instanceof Uint8Array);
}
