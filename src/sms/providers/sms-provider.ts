/** One outgoing text message. `idempotencyKey` is the outbox row id, stable across retries. */
export interface SmsMessage {
  to: string;
  body: string;
  idempotencyKey: string;
}

export interface SmsSendResult {
  /** The provider's id for the accepted message, when it returns one. */
  providerMessageId: string | null;
}

/**
 * A delivery failure. `retryable` failures (network errors, timeouts, 5xx, 429) are tried again
 * by the dispatcher with backoff; permanent ones (rejected number, bad credentials) are not.
 * `message` must never contain a secret or the message text.
 */
export class SmsDeliveryError extends Error {
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, options: { retryable: boolean; retryAfterSeconds?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SmsDeliveryError';
    this.retryable = options.retryable;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export interface SmsProvider {
  /** Short name for logs and delivery records: twilio, vonage, custom, log, inbox. */
  readonly name: string;
  send(message: SmsMessage): Promise<SmsSendResult>;
}

export type CustomContentType = 'JSON' | 'FORM';
export type CustomHttpMethod = 'POST' | 'PUT';

/** A fully validated sender configuration, from the environment or the notification-senders API. */
export type SmsSenderSettings =
  | { provider: 'twilio'; accountSid: string; authToken: string; sender: string; baseUrl?: string }
  | { provider: 'vonage'; apiKey: string; apiSecret: string; sender: string; baseUrl?: string }
  | {
      provider: 'custom';
      url: string;
      contentType: CustomContentType;
      method: CustomHttpMethod;
      payloadTemplate: string;
      headers: Record<string, string>;
    }
  | { provider: 'log' }
  | { provider: 'inbox' };

/** Options every network provider accepts; the dispatcher passes SMS_SEND_TIMEOUT_MS. */
export interface ProviderOptions {
  /** Deadline for one provider call (connect, headers and body), in milliseconds. */
  timeoutMs?: number;
}

export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfterSeconds(value: unknown, now: Date = new Date()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}

/** Defence in depth for texts that come from outside (SDK or provider messages): blank out known secrets. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length > 0) result = result.split(secret).join('[REDACTED]');
  }
  return result;
}
