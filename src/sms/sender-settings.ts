import type { Config } from '../config/config-schema.js';
import { AppError } from '../errors/app-error.js';
import { compilePayloadTemplate, parseStaticHeaders } from './providers/payload-template.js';
import type { CustomContentType, CustomHttpMethod, SmsSenderSettings } from './providers/sms-provider.js';

export const DEFAULT_SENDER_NAME = 'SMSPublisher';

export type SenderProviderName = 'Twilio' | 'Vonage' | 'Custom';

export interface SenderProperty {
  key: string;
  value: string;
}

/** WSO2's SMSSenderAdd / SMSSenderUpdate body; `null` and absent mean the same (the Console sends nulls). */
export interface SenderInput {
  name?: string | undefined;
  provider: string;
  providerURL?: string | null | undefined;
  key?: string | null | undefined;
  secret?: string | null | undefined;
  sender?: string | null | undefined;
  contentType: string;
  properties?: SenderProperty[] | undefined;
}

/** The non-secret part of a sender: stored as JSON in `settings` and returned by the API. */
export interface SenderPublicSettings {
  providerURL?: string;
  key?: string;
  sender?: string;
  contentType: CustomContentType;
  /** Every property except `http.headers`, whose value is a secret. */
  properties: SenderProperty[];
}

/** Stored encrypted in `secrets_encrypted`; never returned, never logged. */
export interface SenderSecrets {
  secret?: string;
  /** The raw `http.headers` property value. */
  headers?: string;
}

export interface SenderConfiguration {
  provider: SenderProviderName;
  settings: SenderPublicSettings;
  secrets: SenderSecrets;
}

/** The SMSSender response: the public settings only. */
export interface SenderView extends SenderPublicSettings {
  name: string;
  provider: SenderProviderName;
}

export const BODY_PROPERTY = 'body';
export const HEADERS_PROPERTY = 'http.headers';
export const METHOD_PROPERTY = 'http.method';

const PROVIDERS: Record<string, SenderProviderName> = { twilio: 'Twilio', vonage: 'Vonage', custom: 'Custom' };
const CONTENT_TYPES: Record<string, CustomContentType> = { json: 'JSON', form: 'FORM' };
const METHODS: Record<string, CustomHttpMethod> = { post: 'POST', put: 'PUT' };

/**
 * Validates an API body into what is stored. On update, `previous` supplies the write-only values
 * a client cannot read back: an absent `secret` keeps the stored one (same provider and key), and
 * an absent `http.headers` property keeps the stored headers (an empty value clears them).
 */
export function senderConfigurationFrom(input: SenderInput, previous?: SenderConfiguration): SenderConfiguration {
  const provider = PROVIDERS[input.provider.trim().toLowerCase()];
  if (provider === undefined) {
    throw invalid(`Unsupported provider "${input.provider.slice(0, 64)}"; use Twilio, Vonage or Custom`);
  }
  const contentType = CONTENT_TYPES[input.contentType.trim().toLowerCase()];
  if (contentType === undefined) throw invalid('contentType must be JSON or FORM');
  const properties = normalizedProperties(input.properties ?? []);
  const settings = compact({
    providerURL: present(input.providerURL),
    key: present(input.key),
    sender: present(input.sender),
    contentType,
    properties: properties.filter((property) => property.key !== HEADERS_PROPERTY),
  });
  // Stored secrets are bound to the destination they were entered for: a new provider or URL
  // (which a caller who cannot read senders might point at itself) gets them only when resupplied.
  const samePrevious =
    previous?.provider === provider && previous.settings.providerURL === settings.providerURL ? previous : undefined;
  const secrets = compact({
    secret:
      present(input.secret) ?? (samePrevious?.settings.key === settings.key ? samePrevious?.secrets.secret : undefined),
    headers: headersFrom(properties, samePrevious),
  });
  const configuration: SenderConfiguration = { provider, settings, secrets };
  // Building the provider settings is the validation: a sender that cannot send is refused now, not at dispatch.
  toSmsSenderSettings(configuration);
  return configuration;
}

/** Maps a stored (or just validated) sender to provider settings; throws AppError when it cannot work. */
export function toSmsSenderSettings(configuration: SenderConfiguration): SmsSenderSettings {
  const { provider, settings, secrets } = configuration;
  const baseUrl = settings.providerURL === undefined ? undefined : httpUrl(settings.providerURL, 'providerURL');
  switch (provider) {
    case 'Twilio':
      return compact({
        provider: 'twilio',
        accountSid: required(settings.key, 'key (the Twilio Account SID)'),
        authToken: required(secrets.secret, 'secret (the Twilio Auth Token)'),
        sender: required(settings.sender, 'sender'),
        baseUrl: baseUrl === undefined ? undefined : apiBaseUrl(baseUrl, /\/2010-04-01(\/.*)?$/),
      });
    case 'Vonage':
      return compact({
        provider: 'vonage',
        apiKey: required(settings.key, 'key (the Vonage API key)'),
        apiSecret: required(secrets.secret, 'secret (the Vonage API secret)'),
        sender: required(settings.sender, 'sender'),
        baseUrl: baseUrl === undefined ? undefined : apiBaseUrl(baseUrl, /\/sms\/json$/),
      });
    case 'Custom':
      return customSettings(configuration, required(baseUrl, 'providerURL'));
  }
}

/** The provider configured through the environment (SMS_PROVIDER); unset: the development inbox. */
export function environmentSenderSettings(config: Readonly<Config>): SmsSenderSettings {
  switch (config.SMS_PROVIDER) {
    case 'twilio':
      return compact({
        provider: 'twilio',
        accountSid: configured(config.TWILIO_ACCOUNT_SID, 'TWILIO_ACCOUNT_SID'),
        authToken: configured(config.TWILIO_AUTH_TOKEN, 'TWILIO_AUTH_TOKEN'),
        sender: configured(config.TWILIO_SENDER, 'TWILIO_SENDER'),
        baseUrl: config.TWILIO_BASE_URL,
      });
    case 'vonage':
      return compact({
        provider: 'vonage',
        apiKey: configured(config.VONAGE_API_KEY, 'VONAGE_API_KEY'),
        apiSecret: configured(config.VONAGE_API_SECRET, 'VONAGE_API_SECRET'),
        sender: configured(config.VONAGE_SENDER, 'VONAGE_SENDER'),
        baseUrl: config.VONAGE_BASE_URL,
      });
    case 'custom': {
      const template = configured(config.SMS_CUSTOM_PAYLOAD_TEMPLATE, 'SMS_CUSTOM_PAYLOAD_TEMPLATE');
      compilePayloadTemplate(template, config.SMS_CUSTOM_CONTENT_TYPE);
      return {
        provider: 'custom',
        url: configured(config.SMS_CUSTOM_URL, 'SMS_CUSTOM_URL'),
        contentType: config.SMS_CUSTOM_CONTENT_TYPE,
        method: config.SMS_CUSTOM_METHOD,
        payloadTemplate: template,
        headers: config.SMS_CUSTOM_HEADERS === undefined ? {} : parseStaticHeaders(config.SMS_CUSTOM_HEADERS),
      };
    }
    case 'log':
      return { provider: 'log' };
    case 'inbox':
    case undefined:
      return { provider: 'inbox' };
  }
}

export function senderView(name: string, configuration: Omit<SenderConfiguration, 'secrets'>): SenderView {
  return { name, provider: configuration.provider, ...configuration.settings };
}

function customSettings(configuration: SenderConfiguration, url: string): SmsSenderSettings {
  const { settings, secrets } = configuration;
  const template = propertyValue(settings.properties, BODY_PROPERTY);
  if (template === undefined || template.trim() === '') {
    throw new AppError('SMS_SENDER_NO_TEMPLATE', 'A Custom provider needs a payload template: add the "body" property');
  }
  withPublicMessage('body (payload template)', () => compilePayloadTemplate(template, settings.contentType));
  const method = METHODS[(propertyValue(settings.properties, METHOD_PROPERTY) ?? 'POST').toLowerCase()];
  if (method === undefined) throw invalid('The "http.method" property must be POST or PUT');
  return {
    provider: 'custom',
    url,
    contentType: settings.contentType,
    method,
    payloadTemplate: template,
    headers: withPublicMessage('http.headers', () => parseStaticHeaders(secrets.headers ?? '')),
  };
}

/** compilePayloadTemplate and parseStaticHeaders explain problems without echoing secret values. */
function withPublicMessage<T>(what: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    throw invalid(`Invalid ${what}: ${error instanceof Error ? error.message : 'rejected'}`);
  }
}

function normalizedProperties(properties: readonly SenderProperty[]): SenderProperty[] {
  const seen = new Set<string>();
  return properties.map(({ key, value }) => {
    const name = key.trim();
    if (seen.has(name)) throw invalid(`Property "${name.slice(0, 64)}" is given more than once`);
    seen.add(name);
    if (name !== METHOD_PROPERTY) return { key: name, value };
    return { key: name, value: value.trim().toUpperCase() };
  });
}

function headersFrom(
  properties: readonly SenderProperty[],
  previous: SenderConfiguration | undefined,
): string | undefined {
  const given = propertyValue(properties, HEADERS_PROPERTY);
  if (given === undefined) return previous?.secrets.headers;
  return given.trim() === '' ? undefined : given;
}

function propertyValue(properties: readonly SenderProperty[], key: string): string | undefined {
  return properties.find((property) => property.key === key)?.value;
}

/**
 * WSO2's Console fills providerURL with the full message endpoint (e.g. .../2010-04-01/Accounts/AC.../Messages.json
 * or .../sms/json); the SDKs want the origin they prepend their own paths to.
 */
function apiBaseUrl(url: string, apiPath: RegExp): string {
  const parsed = new URL(url);
  const prefix = parsed.pathname.replace(apiPath, '').replace(/\/+$/, '');
  return `${parsed.origin}${prefix}`;
}

function httpUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`${field} is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`${field} must be an http or https URL`);
  return value;
}

function required(value: string | undefined, field: string): string {
  if (value === undefined) throw invalid(`${field} is required for this provider`);
  return value;
}

function configured(value: string | undefined, variable: string): string {
  if (value === undefined) throw new Error(`${variable} is not set`);
  return value;
}

function present(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Drops undefined members, so stored JSON and responses carry only what was given. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

function invalid(description: string): AppError {
  return new AppError('SMS_SENDER_INVALID', description);
}
