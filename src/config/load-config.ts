import { Value } from '@sinclair/typebox/value';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { invalidProxyEntry } from '../http/trusted-proxies.js';
import { compilePayloadTemplate, parseStaticHeaders } from '../sms/providers/payload-template.js';
import { type Config, ConfigSchema, OWNED_PREFIXES } from './config-schema.js';
import { unknownSettingProblem } from './unknown-settings.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true,
  '1': true,
  yes: true,
  false: false,
  '0': false,
  no: false,
};

/** Parses the environment once; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  const known = Object.keys(ConfigSchema.properties);
  for (const name of Object.keys(env)) {
    const problem = unknownSettingProblem(name, known, OWNED_PREFIXES);
    if (problem !== undefined) throw new ConfigError(problem);
  }
  const raw: Record<string, unknown> = {};
  for (const name of known) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    raw[name] = coerce(name, value);
  }
  const withDefaults = Value.Default(ConfigSchema, raw);
  const firstError = Value.Errors(ConfigSchema, withDefaults).First();
  if (firstError) {
    const name = firstError.path.replace(/^\//, '') || 'configuration';
    const got = isSecretSetting(name) ? '' : ` (got ${JSON.stringify(raw[name] ?? null)})`;
    throw new ConfigError(`${name}: ${firstError.message}${got}`);
  }
  const config = withDefaults as Config;
  checkCrossFieldRules(config);
  return Object.freeze(config);
}

function coerce(name: string, value: string): unknown {
  const schema = ConfigSchema.properties[name as keyof Config];
  const type = (schema as { type?: string }).type;
  if (type === 'integer') {
    return /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  }
  if (type === 'boolean') {
    const word = BOOLEAN_WORDS[value.trim().toLowerCase()];
    if (word === undefined) {
      const got = isSecretSetting(name) ? '' : ` (got ${JSON.stringify(value)})`;
      throw new ConfigError(`${name}: expected true or false${got}`);
    }
    return word;
  }
  return value;
}

/** Settings whose value must never appear in a message (passwords, keys, tokens, URLs with credentials). */
export function isSecretSetting(name: string): boolean {
  return /SECRET|PASSWORD|TOKEN|_KEY|HEADERS|DATABASE_URL/.test(name);
}

function checkCrossFieldRules(config: Config): void {
  if (config.DATABASE_URL !== undefined && config.SECRET_KEY === undefined) {
    throw new ConfigError('SECRET_KEY: required when DATABASE_URL is set (at least 32 characters)');
  }
  const required: Record<string, (keyof Config)[]> = {
    twilio: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_SENDER'],
    vonage: ['VONAGE_API_KEY', 'VONAGE_API_SECRET', 'VONAGE_SENDER'],
    custom: ['SMS_CUSTOM_URL', 'SMS_CUSTOM_PAYLOAD_TEMPLATE'],
  };
  for (const name of required[config.SMS_PROVIDER ?? 'log'] ?? []) {
    if (config[name] === undefined) {
      throw new ConfigError(`${name}: required when SMS_PROVIDER=${config.SMS_PROVIDER}`);
    }
  }
  if (config.SMS_PROVIDER === 'custom') checkCustomProvider(config);
  if (config.SMS_PROVIDER === 'log' && config.NODE_ENV === 'production') {
    throw new ConfigError('SMS_PROVIDER: the log provider is for development only and is refused in production');
  }
  if (config.SMS_PROVIDER === 'inbox' && config.NODE_ENV === 'production') {
    throw new ConfigError('SMS_PROVIDER: the inbox provider is for development only and is refused in production');
  }
  if (!config.SMS_TEMPLATE_MOBILE_VERIFICATION.includes('{{confirmation-code}}')) {
    throw new ConfigError('SMS_TEMPLATE_MOBILE_VERIFICATION: must contain the {{confirmation-code}} placeholder');
  }
  for (const [name, value] of [
    ['PHONE_DEFAULT_REGION', config.PHONE_DEFAULT_REGION],
    ...(config.SMS_ALLOWED_COUNTRIES ?? '').split(',').map((code) => ['SMS_ALLOWED_COUNTRIES', code.trim()] as const),
  ] as const) {
    if (value !== undefined && value !== '' && !isSupportedCountry(value.toUpperCase())) {
      throw new ConfigError(`${name}: '${value}' is not an ISO 3166 country code`);
    }
  }
  const badProxy = config.TRUST_PROXY === undefined ? undefined : invalidProxyEntry(config.TRUST_PROXY);
  if (badProxy !== undefined) throw new ConfigError(`TRUST_PROXY: '${badProxy}' is not an IP address or CIDR`);
  for (const name of ['PUBLIC_BASE_URL', 'SMS_CUSTOM_URL', 'TWILIO_BASE_URL', 'VONAGE_BASE_URL'] as const) {
    const value = config[name];
    if (value !== undefined && !isHttpUrl(value)) throw new ConfigError(`${name}: not an http(s) URL`);
  }
}

/** The custom provider's template and headers, checked now rather than at the first SMS (messages never echo values). */
function checkCustomProvider(config: Config): void {
  const checks: [keyof Config, () => unknown][] = [
    [
      'SMS_CUSTOM_PAYLOAD_TEMPLATE',
      () => compilePayloadTemplate(config.SMS_CUSTOM_PAYLOAD_TEMPLATE ?? '', config.SMS_CUSTOM_CONTENT_TYPE),
    ],
    ['SMS_CUSTOM_HEADERS', () => parseStaticHeaders(config.SMS_CUSTOM_HEADERS ?? '')],
  ];
  for (const [name, check] of checks) {
    try {
      check();
    } catch (error) {
      throw new ConfigError(`${name}: ${error instanceof Error ? error.message : 'invalid'}`);
    }
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
