import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Independent keys derived from SECRET_KEY, one per purpose, so no key is used for two things. */
export interface SecretKeys {
  otpHmac: Buffer;
  secretEncryption: Buffer;
  /** Encrypts the OAuth token-signing private keys at rest. */
  signingKeyEncryption: Buffer;
  /** Encrypts queued SMS texts (they carry codes) in sms_outbox.sealed_body. */
  smsBodyEncryption: Buffer;
  /** Keys the hashes that name rate-limit buckets (phone numbers, client addresses), so none is stored whole. */
  limitBucketHmac: Buffer;
}

export function deriveSecretKeys(secret: string): SecretKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, 'scim-mobile-verify', info, 32));
  return {
    otpHmac: derive('otp-hmac-v1'),
    secretEncryption: derive('secret-encryption-v1'),
    signingKeyEncryption: derive('oauth-signing-key-v1'),
    smsBodyEncryption: derive('sms-outbox-body-v1'),
    limitBucketHmac: derive('rate-limit-bucket-v1'),
  };
}

/**
 * SECRET_KEY from the environment, or (embedded default only) a key generated on first start
 * and kept in DATA_DIR, so codes and stored secrets survive restarts.
 */
export function resolveSecret(configured: string | undefined, dataDir: string): { secret: string; generated: boolean } {
  if (configured !== undefined) return { secret: configured, generated: false };
  const file = path.resolve(dataDir, 'secret.key');
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secret, generated: true };
}
