import { Vonage } from '@vonage/server-sdk';
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

export type VonageSettings = Extract<SmsSenderSettings, { provider: 'vonage' }>;

type SmsParams = NonNullable<Parameters<Vonage['sms']['send']>[0]>;
// The SDK types `type` as an enum from @vonage/sms, which is not our direct dependency; the wire value is 'unicode'.
const UNICODE = 'unicode' as NonNullable<SmsParams['type']>;

/** Vonage SMS API statuses (developer.vonage.com, SMS API troubleshooting). 1 and 5 are worth retrying. */
const VONAGE_STATUS: Record<string, string> = {
  '1': 'throttled',
  '2': 'missing parameters',
  '3': 'invalid parameters',
  '4': 'invalid credentials',
  '5': 'internal error',
  '6': 'invalid message',
  '7': 'number barred',
  '8': 'partner account barred',
  '9': 'partner quota violation',
  '10': 'too many existing binds',
  '11': 'account not enabled for HTTP',
  '12': 'message too long',
  '14': 'invalid signature',
  '15': 'invalid sender address',
  '22': 'invalid network code',
  '23': 'invalid callback URL',
  '29': 'non-whitelisted destination',
  '32': 'signature and API secret disallowed',
  '33': 'number de-activated',
};
const RETRYABLE_STATUSES = new Set(['1', '5']);

export function createVonageProvider(settings: VonageSettings, options: ProviderOptions = {}): SmsProvider {
  const vonage = new Vonage(
    { apiKey: settings.apiKey, apiSecret: settings.apiSecret },
    {
      ...(settings.baseUrl === undefined ? {} : { restHost: settings.baseUrl.replace(/\/+$/, '') }),
      timeout: options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
    },
  );
  const secrets = [settings.apiSecret, Buffer.from(`${settings.apiKey}:${settings.apiSecret}`).toString('base64')];

  return {
    name: 'vonage',
    async send(message: SmsMessage): Promise<SmsSendResult> {
      let response: Awaited<ReturnType<Vonage['sms']['send']>>;
      try {
        response = await vonage.sms.send(smsParams(settings.sender, message));
      } catch (error) {
        throw toDeliveryError(error, secrets);
      }
      const first = response.messages?.[0];
      if (first === undefined || first.status !== '0') {
        throw new SmsDeliveryError('vonage: response without a message status', { retryable: true });
      }
      return { providerMessageId: first.messageId ?? null };
    },
  };
}

function smsParams(sender: string, message: SmsMessage): SmsParams {
  const params: SmsParams = {
    // Vonage wants E.164 digits without the leading '+'.
    to: stripPlus(message.to),
    from: /^\+\d+$/.test(sender) ? stripPlus(sender) : sender,
    text: message.body,
    // Vonage's client-ref: the same on every attempt of one message, so duplicates can be recognised.
    clientRef: message.idempotencyKey,
  };
  // Without type=unicode, characters outside GSM-7 arrive as '?'.
  return /^[\x20-\x7E\n\r]*$/.test(message.body) ? params : { ...params, type: UNICODE };
}

function stripPlus(number: string): string {
  return number.startsWith('+') ? number.slice(1) : number;
}

function toDeliveryError(error: unknown, secrets: readonly string[]): SmsDeliveryError {
  const failedStatus = failedMessageStatus(error);
  if (failedStatus !== undefined) return fromMessageStatus(failedStatus, secrets);
  const response = httpResponseOf(error);
  if (response !== undefined) return fromHttpResponse(response);
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new SmsDeliveryError('vonage: request timed out', { retryable: true });
  }
  if (error instanceof Error && error.name === 'FetchError') {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : 'unknown';
    return new SmsDeliveryError(`vonage: network error (${code})`, { retryable: true });
  }
  const detail = error instanceof Error ? redactSecrets(error.message, secrets) : 'unknown error';
  return new SmsDeliveryError(`vonage: unexpected error: ${detail}`, { retryable: true });
}

interface FailedMessage {
  status: string;
  errorText: string | undefined;
}

/** The SDK throws MessageSendAllFailure / MessageSendPartialFailure (both SMSFailure) on 200 with status != '0'. */
function failedMessageStatus(error: unknown): FailedMessage | undefined {
  if (typeof error !== 'object' || error === null || !('getFailedMessages' in error)) return undefined;
  if (typeof error.getFailedMessages !== 'function') return undefined;
  const failed: unknown = error.getFailedMessages();
  const first: unknown = Array.isArray(failed) ? failed[0] : undefined;
  if (typeof first !== 'object' || first === null) return undefined;
  const status = 'status' in first && typeof first.status === 'string' ? first.status : 'unknown';
  const errorText = 'errorText' in first && typeof first.errorText === 'string' ? first.errorText : undefined;
  return { status, errorText };
}

function fromMessageStatus({ status, errorText }: FailedMessage, secrets: readonly string[]): SmsDeliveryError {
  const description = VONAGE_STATUS[status] ?? redactSecrets(errorText ?? 'unknown status', secrets).slice(0, 200);
  return new SmsDeliveryError(`vonage: status ${status} (${description})`, {
    retryable: RETRYABLE_STATUSES.has(status),
  });
}

interface HttpFailure {
  status: number;
  retryAfter: string | null;
}

/** The SDK's VetchError carries the fetch Response for non-2xx answers (and its request, with credentials). */
function httpResponseOf(error: unknown): HttpFailure | undefined {
  if (typeof error !== 'object' || error === null || !('response' in error)) return undefined;
  const { response } = error;
  if (typeof response !== 'object' || response === null) return undefined;
  if (!('status' in response) || typeof response.status !== 'number') return undefined;
  const headers = 'headers' in response ? response.headers : undefined;
  return { status: response.status, retryAfter: readHeader(headers, 'retry-after') };
}

function readHeader(headers: unknown, name: string): string | null {
  if (typeof headers !== 'object' || headers === null || !('get' in headers)) return null;
  if (typeof headers.get !== 'function') return null;
  const value: unknown = headers.get(name);
  return typeof value === 'string' ? value : null;
}

function fromHttpResponse(response: HttpFailure): SmsDeliveryError {
  const { status } = response;
  if (status >= 200 && status < 300) {
    return new SmsDeliveryError(`vonage: HTTP ${status} with an unreadable body`, { retryable: true });
  }
  const retryable = status === 429 || status >= 500;
  return new SmsDeliveryError(`vonage: HTTP ${status}${status === 401 ? ' (invalid credentials)' : ''}`, {
    retryable,
    retryAfterSeconds: retryable ? parseRetryAfterSeconds(response.retryAfter) : undefined,
  });
}
