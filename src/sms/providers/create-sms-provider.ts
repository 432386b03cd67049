import type { Logger } from 'pino';
import type { Db } from '../../db/executor.js';
import { createCustomHttpProvider } from './custom-http-provider.js';
import { createInboxProvider } from './inbox-provider.js';
import { createLogProvider } from './log-provider.js';
import type { SmsProvider, SmsSenderSettings } from './sms-provider.js';
import { createTwilioProvider } from './twilio-provider.js';
import { createVonageProvider } from './vonage-provider.js';

export interface SmsProviderDeps {
  logger: Logger;
  production: boolean;
  /** SMS_SEND_TIMEOUT_MS; each provider's default (10 s) applies when absent. */
  timeoutMs?: number;
  /** Where the development inbox provider keeps its messages. */
  db?: Db;
}

export function createSmsProvider(settings: SmsSenderSettings, deps: SmsProviderDeps): SmsProvider {
  const options = deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs };
  switch (settings.provider) {
    case 'twilio':
      return createTwilioProvider(settings, options);
    case 'vonage':
      return createVonageProvider(settings, options);
    case 'custom':
      return createCustomHttpProvider(settings, options);
    case 'log':
      return createLogProvider(deps.logger, { production: deps.production });
    case 'inbox':
      return createInboxProvider(deps.db, deps.logger, { production: deps.production });
  }
}
