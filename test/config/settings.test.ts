import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/config-schema.js';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { describeDatabaseFailure } from '../../src/db/pg-errors.js';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

const CUSTOM = { SMS_PROVIDER: 'custom', SMS_CUSTOM_URL: 'http://127.0.0.1:9/sms' };

describe('settings fail fast', () => {
  it('stops on a misspelt setting and names the one that was meant', () => {
    expect(refusal({ MULTIPLE_MOBILE_NUMBER: 'true' })).toMatch(
      /^MULTIPLE_MOBILE_NUMBER: unknown setting; did you mean MULTIPLE_MOBILE_NUMBERS\?/,
    );
    expect(refusal({ SKIP_VERIFICATION_FOR_PRIVILEDGED: 'true' })).toContain(
      'did you mean SKIP_VERIFICATION_FOR_PRIVILEGED?',
    );
    expect(refusal({ DATABASE_URI: 'postgres://x' })).toContain('did you mean DATABASE_URL?');
    expect(refusal({ log_level: 'debug' })).toContain('did you mean LOG_LEVEL?');
    // Prefix rule still applies to names far from any setting.
    expect(refusal({ SMS_SOMETHING_ELSE: 'x' })).toContain('SMS_SOMETHING_ELSE: unknown setting');
  });

  it('covers every setting of the schema, including ones added later', () => {
    for (const name of Object.keys(ConfigSchema.properties).filter((key) => key.length >= 8)) {
      const typo = `${name.slice(0, -1)}`;
      expect(refusal({ [typo]: 'x' })).toContain(`did you mean ${name}?`);
    }
  });

  it("leaves the machine's own variables alone", () => {
    expect(() =>
      loadConfig({ HOME: '/root', PATH: '/usr/bin', HOSTNAME: 'vm', PWD: '/', TERM: 'xterm', LANG: 'C', SHLVL: '1' }),
    ).not.toThrow();
  });

  it('never echoes the value of a secret setting', () => {
    const message = refusal({ SECRET_KEY: 'too-short-but-secret-value' });
    expect(message).toContain('SECRET_KEY');
    expect(message).not.toContain('too-short-but-secret-value');
    expect(refusal({ OTP_LENGTH: '99' })).toContain('(got 99)');
  });

  it('refuses a custom payload template that cannot work, naming the variable', () => {
    expect(refusal({ ...CUSTOM, SMS_CUSTOM_PAYLOAD_TEMPLATE: '{"to": {{mobile}}, "text": {{body}}' })).toBe(
      'SMS_CUSTOM_PAYLOAD_TEMPLATE: payload template does not produce valid JSON',
    );
    expect(refusal({ ...CUSTOM, SMS_CUSTOM_PAYLOAD_TEMPLATE: '{"to": {{mobile}}, "text": {{body}' })).toContain(
      'SMS_CUSTOM_PAYLOAD_TEMPLATE:',
    );
    const headers = refusal({
      ...CUSTOM,
      SMS_CUSTOM_PAYLOAD_TEMPLATE: '{"text": {{body}}}',
      SMS_CUSTOM_HEADERS: 'authorization Bearer-secret-token',
    });
    expect(headers).toMatch(/^SMS_CUSTOM_HEADERS: header 1 has no ":"/);
    expect(headers).not.toContain('secret-token');
  });

  it('explains why the database cannot be opened', () => {
    const missing = Object.assign(new Error('database "scim" does not exist'), { code: '3D000' });
    const wrapped = new Error('database migration failed', { cause: missing });
    expect(describeDatabaseFailure(wrapped)).toMatch(/^the database does not exist .*\[3D000\]/);
    const auth = Object.assign(new Error('password authentication failed for user "scim"'), { code: '28P01' });
    expect(describeDatabaseFailure(auth)).toContain('password authentication failed (check the user and password');
    expect(describeDatabaseFailure(new Error('unrelated'))).toBeUndefined();
  });
});
