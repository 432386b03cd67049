import type { Config } from '../config/config-schema.js';
import { ConfigError } from '../config/load-config.js';

/** Tokens issued here are ES256 JWTs of this type (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const SIGNING_ALGORITHM = 'ES256';

/** Signatures accepted from an external identity provider: asymmetric only (no HS*, no `none`). */
export const EXTERNAL_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export interface ExternalIssuerSettings {
  jwksUrl: URL;
  issuer: string;
  audience: string | undefined;
  userClaim: string;
  timeoutMs: number;
}

export interface OAuthSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  external: ExternalIssuerSettings | undefined;
}

const DEFAULT_ISSUER = 'urn:scim-mobile-verify';

/** The OAuth part of the configuration, checked as a whole (throws ConfigError). */
export function oauthSettingsOf(config: Readonly<Config>): OAuthSettings {
  const base = config.PUBLIC_BASE_URL?.replace(/\/+$/, '');
  const issuer = config.TOKEN_ISSUER ?? (base === undefined ? DEFAULT_ISSUER : `${base}/oauth2/token`);
  const audience = config.TOKEN_AUDIENCE ?? issuer;
  return {
    issuer,
    audience,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    external: externalSettings(config, issuer),
  };
}

function externalSettings(config: Readonly<Config>, localIssuer: string): ExternalIssuerSettings | undefined {
  const { OAUTH_JWKS_URL: jwksUrl, OAUTH_ISSUER: issuer } = config;
  if (jwksUrl === undefined && issuer === undefined) {
    if (config.OAUTH_AUDIENCE !== undefined) throw new ConfigError('OAUTH_AUDIENCE: set only with OAUTH_JWKS_URL');
    return undefined;
  }
  if (jwksUrl === undefined) throw new ConfigError('OAUTH_JWKS_URL: required when OAUTH_ISSUER is set');
  if (issuer === undefined) throw new ConfigError('OAUTH_ISSUER: required when OAUTH_JWKS_URL is set');
  if (issuer === localIssuer) {
    throw new ConfigError('OAUTH_ISSUER: must differ from the issuer of this server (TOKEN_ISSUER)');
  }
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch {
    throw new ConfigError('OAUTH_JWKS_URL: not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError('OAUTH_JWKS_URL: not an http(s) URL');
  if (url.protocol === 'http:' && config.NODE_ENV === 'production' && !isLoopback(url.hostname)) {
    throw new ConfigError('OAUTH_JWKS_URL: must use https in production');
  }
  return {
    jwksUrl: url,
    issuer,
    audience: config.OAUTH_AUDIENCE,
    userClaim: config.OAUTH_USER_CLAIM,
    timeoutMs: config.OAUTH_JWKS_TIMEOUT_MS,
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname.startsWith('127.');
}
