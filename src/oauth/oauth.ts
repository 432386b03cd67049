import type { Logger } from 'pino';
import type { Revocations } from '../auth/credential-events.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { Config } from '../config/config-schema.js';
import type { Db } from '../db/executor.js';
import type { Clock } from '../shared/clock.js';
import { type AccessTokens, createAccessTokens } from './access-tokens.js';
import { BUILT_IN_CLIENTS } from './built-in-clients.js';
import { type ClientService, createClientService } from './client-service.js';
import { oauthSettingsOf } from './oauth-settings.js';
import { createSigningKeyStore, type SigningKeyStore } from './signing-keys.js';
import { createTokenService, type TokenService } from './token-service.js';

export interface OAuth {
  accessTokens: AccessTokens;
  clients: ClientService;
  signingKeys: SigningKeyStore;
  tokens: TokenService;
}

export interface OAuthDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Readonly<Config>;
  /** From SecretKeys.signingKeyEncryption. */
  signingKeyEncryption: Buffer;
  /** Counts failed passwords and client secrets (src/auth/login-throttle.ts). */
  loginThrottle: LoginThrottle;
  /** Records what dies with a client or a login, for every instance's caches. */
  revocations: Revocations;
}

/** The OAuth services, wired; the first signing key is generated here on first start. */
export async function createOAuth(deps: OAuthDeps): Promise<OAuth> {
  const { db, clock, logger, config } = deps;
  const settings = oauthSettingsOf(config);
  const signingKeys = createSigningKeyStore({
    db,
    clock,
    logger,
    encryptionKey: deps.signingKeyEncryption,
    accessTokenTtlSeconds: settings.accessTokenTtlSeconds,
  });
  await signingKeys.init();
  const clients = createClientService({
    db,
    clock,
    cacheTtlMs: config.AUTH_CACHE_TTL_SECONDS * 1000,
    revocations: deps.revocations,
  });
  for (const client of BUILT_IN_CLIENTS) await clients.registerBuiltIn(client);
  const accessTokens = createAccessTokens({ db, clock, logger, signingKeys, clients, settings });
  const tokens = createTokenService({
    db,
    clock,
    logger,
    clients,
    accessTokens,
    settings,
    loginThrottle: deps.loginThrottle,
    revocations: deps.revocations,
  });
  return { accessTokens, clients, signingKeys, tokens };
}
