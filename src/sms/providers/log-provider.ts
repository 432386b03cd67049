import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { maskPhoneNumber } from '../../shared/mask.js';
import type { SmsMessage, SmsProvider, SmsSendResult } from './sms-provider.js';

/**
 * Development stand-in that only writes a log line. The body is never logged, not even at debug:
 * it carries a one-time code, and debug logs get shipped and kept like any others.
 */
export function createLogProvider(logger: Logger, options: { production: boolean }): SmsProvider {
  if (options.production) throw new Error('the log SMS provider is for development only');
  return {
    name: 'log',
    async send(message: SmsMessage): Promise<SmsSendResult> {
      const providerMessageId = `log-${randomUUID()}`;
      logger.info(
        { to: maskPhoneNumber(message.to), provider: 'log', providerMessageId, idempotencyKey: message.idempotencyKey },
        'SMS delivered (log provider; text not logged)',
      );
      return { providerMessageId };
    },
  };
}
