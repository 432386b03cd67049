import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../../db/executor.js';
import { maskPhoneNumber } from '../../shared/mask.js';
import type { SmsMessage, SmsProvider, SmsSendResult } from './sms-provider.js';

/**
 * Development provider (SMS_PROVIDER=inbox, the default outside production): each message is kept in the
 * `sms_inbox` table, text included, so the Console's "SMS inbox" shows it on a machine with no gateway.
 * Storing the text is the point of this provider, which is why it is refused in production. The text never
 * reaches a log line.
 */
export function createInboxProvider(db: Db | undefined, logger: Logger, options: { production: boolean }): SmsProvider {
  if (options.production) throw new Error('the inbox SMS provider is for development only');
  if (db === undefined) throw new Error('the inbox SMS provider needs the database');
  return {
    name: 'inbox',
    async send(message: SmsMessage): Promise<SmsSendResult> {
      const id = randomUUID();
      await db
        .insertInto('sms_inbox')
        .values({ id, to_number: message.to, body: message.body, created_at: new Date() })
        .execute();
      logger.info(
        {
          to: maskPhoneNumber(message.to),
          provider: 'inbox',
          providerMessageId: id,
          idempotencyKey: message.idempotencyKey,
        },
        'SMS delivered to the development inbox (text not logged)',
      );
      return { providerMessageId: id };
    },
  };
}
