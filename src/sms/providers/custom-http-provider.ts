import { Agent, type Dispatcher, request } from 'undici';
import { compilePayloadTemplate } from './payload-template.js';
import {
  type CustomContentType,
  DEFAULT_SEND_TIMEOUT_MS,
  type ProviderOptions,
  parseRetryAfterSeconds,
  SmsDeliveryError,
  type SmsMessage,
  type SmsProvider,
  type SmsSenderSettings,
  type SmsSendResult,
} from './sms-provider.js';

export type CustomHttpSettings = Extract<SmsSenderSettings, { provider: 'custom' }>;

export interface CustomHttpOptions extends ProviderOptions {
  /** Bytes of a success response read to find a message id; the rest is discarded. */
  maxResponseBytes?: number;
}

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

const CONTENT_TYPES: Record<CustomContentType, string> = {
  JSON: 'application/json',
  FORM: 'application/x-www-form-urlencoded',
};

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/**
 * Publishes the rendered payload template to an operator-configured gateway (WSO2's "Custom" provider).
 * Error messages name the status or network condition only: the URL may carry a token, headers carry
 * credentials, and gateways often echo the request (and with it the one-time code) in their bodies.
 */
export function createCustomHttpProvider(settings: CustomHttpSettings, options: CustomHttpOptions = {}): SmsProvider {
  const url = new URL(settings.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error('custom SMS provider URL must use http or https');
  }
  const template = compilePayloadTemplate(settings.payloadTemplate, settings.contentType);
  const timeoutMs = options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const dispatcher = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const headers = { ...withoutContentType(settings.headers), 'content-type': CONTENT_TYPES[settings.contentType] };

  return {
    name: 'custom',
    async send(message: SmsMessage): Promise<SmsSendResult> {
      const body = template.render({ body: message.body, mobile: message.to, messageId: message.idempotencyKey });
      try {
        const response = await request(url, {
          method: settings.method,
          // The same key on every attempt of one message: a gateway that honours it drops the duplicate.
          headers: { ...headers, 'idempotency-key': message.idempotencyKey },
          body,
          dispatcher,
          // The per-phase timeouts do not bound a server that trickles bytes; this bounds the whole call.
          signal: AbortSignal.timeout(timeoutMs),
        });
        return await handleResponse(response, maxResponseBytes);
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
  };
}

function withoutContentType(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-type'));
}

async function handleResponse(response: Dispatcher.ResponseData, maxResponseBytes: number): Promise<SmsSendResult> {
  const { statusCode } = response;
  if (statusCode >= 200 && statusCode < 300) {
    const text = await readCapped(response.body, maxResponseBytes);
    return { providerMessageId: messageIdFrom(text) };
  }
  await response.body.dump({ limit: maxResponseBytes });
  const retryable = statusCode === 429 || statusCode >= 500;
  throw new SmsDeliveryError(`custom gateway: HTTP ${statusCode}`, {
    retryable,
    retryAfterSeconds: retryable ? parseRetryAfterSeconds(response.headers['retry-after']) : undefined,
  });
}

async function readCapped(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk.subarray(0, limit - size));
    size += Math.min(chunk.length, limit - size);
    // Leaving the loop destroys the stream, which discards whatever the gateway still sends.
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function messageIdFrom(text: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  for (const key of ['id', 'messageId', 'message_id']) {
    const value: unknown = Object.hasOwn(parsed, key) ? Reflect.get(parsed, key) : undefined;
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  }
  return null;
}

function toDeliveryError(error: unknown): SmsDeliveryError {
  if (error instanceof SmsDeliveryError) return error;
  if (isTimeout(error)) return new SmsDeliveryError('custom gateway: request timed out', { retryable: true });
  return new SmsDeliveryError(`custom gateway: network error (${errorCode(error) ?? 'unknown'})`, { retryable: true });
}

function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError') return true;
  const code = errorCode(error);
  return code !== undefined && TIMEOUT_CODES.has(code);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('code' in error && typeof error.code === 'string') return error.code;
  // Some socket errors arrive wrapped, with the system code on the cause.
  return 'cause' in error ? errorCode(error.cause) : undefined;
}
