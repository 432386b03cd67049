import { AsyncLocalStorage } from 'node:async_hooks';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import {
  DEFAULT_SEND_TIMEOUT_MS,
  type ProviderOptions,
  parseRetryAfterSeconds,
  redactSecrets,
  SmsDeliveryError,
  type SmsMessage,
  type SmsProvider,
  type SmsSenderSettings,
  type SmsSendResult,
} from './sms-provider.js';

export type TwilioSettings = Extract<SmsSenderSettings, { provider: 'twilio' }>;

const TWILIO_API_HOST = /^api(\.[a-z0-9-]+){0,2}\.twilio\.com$/i;

/** What the HTTP client saw for the current send; RestException keeps the status but drops the headers. */
interface ResponseCapture {
  headers?: unknown;
}

/**
 * Twilio's own HTTP client, pointed at another origin (a proxy or a test double). Twilio's maintainers
 * suggest a custom httpClient for this (twilio/twilio-node#326); the SDK still builds every request.
 */
class BaseUrlRequestClient extends twilio.RequestClient {
  readonly #baseUrl: string | undefined;
  readonly #capture: AsyncLocalStorage<ResponseCapture>;

  constructor(
    baseUrl: string | undefined,
    capture: AsyncLocalStorage<ResponseCapture>,
    options: RequestClient.RequestClientOptions,
  ) {
    super(options);
    this.#baseUrl = baseUrl?.replace(/\/+$/, '');
    this.#capture = capture;
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const response = await super.request({ ...opts, uri: this.#rewrite(opts.uri) });
    const capture = this.#capture.getStore();
    if (capture !== undefined) capture.headers = response.headers;
    return response;
  }

  #rewrite(uri: string): string {
    if (this.#baseUrl === undefined) return uri;
    const url = new URL(uri);
    if (url.protocol !== 'https:' || !TWILIO_API_HOST.test(url.hostname)) return uri;
    return `${this.#baseUrl}${url.pathname}${url.search}`;
  }
}

export function createTwilioProvider(settings: TwilioSettings, options: ProviderOptions = {}): SmsProvider {
  const capture = new AsyncLocalStorage<ResponseCapture>();
  const timeout = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  // autoRetry stays off: the dispatcher owns retries and backoff.
  const httpClient = new BaseUrlRequestClient(settings.baseUrl, capture, { timeout, autoRetry: false });
  const client = twilio(settings.accountSid, settings.authToken, { httpClient, timeout, autoRetry: false });
  const secrets = [settings.authToken, basicCredentials(settings.accountSid, settings.authToken)];

  return {
    name: 'twilio',
    async send(message: SmsMessage): Promise<SmsSendResult> {
      const seen: ResponseCapture = {};
      try {
        const created = await capture.run(seen, () => client.messages.create(messageParams(settings.sender, message)));
        return { providerMessageId: created.sid ?? null };
      } catch (error) {
        throw toDeliveryError(error, seen, secrets);
      }
    },
  };
}

function messageParams(sender: string, message: SmsMessage) {
  const recipient = { to: message.to, body: message.body };
  // Messaging Service SIDs start with MG; anything else is a phone number or alphanumeric sender id.
  return sender.startsWith('MG') ? { ...recipient, messagingServiceSid: sender } : { ...recipient, from: sender };
}

function basicCredentials(accountSid: string, authToken: string): string {
  return Buffer.from(`${accountSid}:${authToken}`).toString('base64');
}

const TWILIO_ERROR_HINTS: Record<number, string> = {
  20003: 'authentication failed (check the Account SID and Auth Token)',
  20429: 'too many requests',
  21211: 'invalid "To" phone number',
  21212: 'invalid "From" phone number',
  21408: 'no permission to send to this region',
  21606: 'the "From" number cannot send SMS',
  21608: 'trial accounts can only send to verified numbers',
  21610: 'the recipient has opted out (STOP)',
  21614: '"To" is not a mobile number',
};

function toDeliveryError(error: unknown, seen: ResponseCapture, secrets: readonly string[]): SmsDeliveryError {
  if (hasHttpStatus(error)) return fromHttpStatus(error, seen);
  if (isAxiosNetworkError(error)) {
    const timedOut = error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT';
    // The axios error carries the request config, Authorization header included, so it is not kept as the cause.
    return new SmsDeliveryError(timedOut ? 'twilio: request timed out' : `twilio: network error (${error.code})`, {
      retryable: true,
    });
  }
  const detail = error instanceof Error ? redactSecrets(error.message, secrets) : 'unknown error';
  return new SmsDeliveryError(`twilio: unexpected error: ${detail}`, { retryable: true });
}

function fromHttpStatus(error: { status: number; code?: unknown }, seen: ResponseCapture): SmsDeliveryError {
  const { status } = error;
  const code = typeof error.code === 'number' ? error.code : undefined;
  const hint = code === undefined ? undefined : TWILIO_ERROR_HINTS[code];
  const suffix = code === undefined ? '' : `, Twilio error ${code}${hint === undefined ? '' : `: ${hint}`}`;
  const retryable = status === 429 || status >= 500;
  return new SmsDeliveryError(`twilio: HTTP ${status}${suffix}`, {
    retryable,
    retryAfterSeconds: retryable ? parseRetryAfterSeconds(retryAfterHeader(seen.headers)) : undefined,
  });
}

function hasHttpStatus(error: unknown): error is { status: number; code?: unknown } {
  return error instanceof Error && 'status' in error && typeof error.status === 'number';
}

function isAxiosNetworkError(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error &&
    'isAxiosError' in error &&
    error.isAxiosError === true &&
    'code' in error &&
    typeof error.code === 'string'
  );
}

function retryAfterHeader(headers: unknown): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  return 'retry-after' in headers ? headers['retry-after'] : undefined;
}
