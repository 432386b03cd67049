import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import type { Config } from '../config/config-schema.js';
import type { SmsSenderRow } from '../db/database.js';
import type { Db } from '../db/executor.js';
import { AppError } from '../errors/app-error.js';
import type { Clock } from '../shared/clock.js';
import { decryptText, encryptText } from '../shared/crypto.js';
import { createSmsProvider } from './providers/create-sms-provider.js';
import { redactSecrets, type SmsProvider, type SmsSenderSettings } from './providers/sms-provider.js';
import {
  deleteSenderRow,
  findActiveSenderRow,
  findSenderRow,
  insertSenderRow,
  listSenderRows,
  lockSenderRow,
  type SenderRowValues,
  updateSenderRow,
} from './sender-repository.js';
import {
  DEFAULT_SENDER_NAME,
  environmentSenderSettings,
  type SenderConfiguration,
  type SenderInput,
  type SenderView,
  senderConfigurationFrom,
  senderView,
  toSmsSenderSettings,
} from './sender-settings.js';

export interface SenderServiceDeps {
  db: Db;
  clock: Clock;
  config: Readonly<Config>;
  encryptionKey: Buffer;
  logger: Logger;
}

const StoredSettings = Type.Object({
  providerURL: Type.Optional(Type.String()),
  key: Type.Optional(Type.String()),
  sender: Type.Optional(Type.String()),
  contentType: Type.Union([Type.Literal('JSON'), Type.Literal('FORM')]),
  properties: Type.Array(Type.Object({ key: Type.String(), value: Type.String() })),
});
const StoredSecrets = Type.Object({ secret: Type.Optional(Type.String()), headers: Type.Optional(Type.String()) });
const StoredProvider = Type.Union([Type.Literal('Twilio'), Type.Literal('Vonage'), Type.Literal('Custom')]);

export type SenderService = ReturnType<typeof createSenderService>;

/**
 * SMS senders configured through WSO2's notification-senders API, and the provider the dispatcher uses.
 * A stored sender wins over the environment; every instance notices changes on its next dispatch pass.
 */
export function createSenderService(deps: SenderServiceDeps) {
  const { db, clock, config, encryptionKey, logger } = deps;
  const production = config.NODE_ENV === 'production';
  let cached: { revision: string; provider: SmsProvider } | undefined;

  async function listSenders(): Promise<SenderView[]> {
    const rows = await listSenderRows(db);
    return rows.map((row) => senderView(row.name, decodePublic(row)));
  }

  async function getSender(name: string): Promise<SenderView> {
    const row = await findSenderRow(db, name);
    if (row === undefined) throw notFound(name);
    return senderView(row.name, decodePublic(row));
  }

  async function createSender(input: SenderInput): Promise<SenderView> {
    const name = input.name ?? DEFAULT_SENDER_NAME;
    const configuration = senderConfigurationFrom(input);
    assertUsable(configuration);
    if (!(await insertSenderRow(db, name, rowValues(configuration)))) {
      throw new AppError('SMS_SENDER_CONFLICT', `An SMS sender named "${name}" already exists`);
    }
    logger.info({ sender: name, provider: configuration.provider }, 'SMS sender created');
    return senderView(name, configuration);
  }

  async function updateSender(name: string, input: SenderInput): Promise<SenderView> {
    if (input.name !== undefined && input.name !== name) {
      throw new AppError(
        'SMS_SENDER_INVALID',
        'The name in the body differs from the one in the path; senders cannot be renamed',
      );
    }
    const configuration = await db.transaction().execute(async (trx) => {
      const row = await lockSenderRow(trx, name);
      if (row === undefined) throw notFound(name);
      const updated = senderConfigurationFrom(input, decodeForUpdate(row));
      assertUsable(updated);
      await updateSenderRow(trx, name, rowValues(updated));
      return updated;
    });
    logger.info({ sender: name, provider: configuration.provider }, 'SMS sender updated');
    return senderView(name, configuration);
  }

  async function deleteSender(name: string): Promise<void> {
    if (!(await deleteSenderRow(db, name))) throw notFound(name);
    logger.info({ sender: name }, 'SMS sender deleted');
  }

  /**
   * One small query per call. The provider is rebuilt only when the active row's content changed;
   * the content, ciphertext included, is the revision, so no clock or counter has to be trusted.
   */
  async function activeProvider(): Promise<SmsProvider> {
    const row = await findActiveSenderRow(db);
    const revision =
      row === undefined ? 'environment' : `${row.name}\n${row.provider}\n${row.settings}\n${row.secrets_encrypted}`;
    if (cached?.revision === revision) return cached.provider;
    const provider = row === undefined ? environmentProvider() : storedProvider(row);
    cached = { revision, provider };
    logger.info(
      {
        provider: provider.name,
        source: row === undefined ? 'environment' : 'notification-senders API',
        sender: row?.name,
      },
      'SMS provider ready',
    );
    return provider;
  }

  function environmentProvider(): SmsProvider {
    const settings = describeFailure('the SMS provider from the environment', () => environmentSenderSettings(config));
    if ((settings.provider === 'log' || settings.provider === 'inbox') && production) {
      throw new Error(
        'No SMS provider is configured: set SMS_PROVIDER or create one through /api/server/v1/notification-senders/sms ' +
          '(the log and inbox providers are refused in production)',
      );
    }
    return build(settings, 'the SMS provider from the environment');
  }

  function storedProvider(row: SmsSenderRow): SmsProvider {
    const what = `the stored SMS sender "${row.name}"`;
    const settings = describeFailure(what, () => toSmsSenderSettings(decode(row)));
    return build(settings, what);
  }

  function build(settings: SmsSenderSettings, what: string): SmsProvider {
    return describeFailure(what, () =>
      createSmsProvider(settings, { logger, production, timeoutMs: config.SMS_SEND_TIMEOUT_MS, db }),
    );
  }

  /** The SDKs have checks of their own (a Twilio Account SID starts with AC): build the provider once now. */
  function assertUsable(configuration: SenderConfiguration): void {
    try {
      build(toSmsSenderSettings(configuration), `the ${configuration.provider} settings`);
    } catch (error) {
      const { secret = '', headers = '' } = configuration.secrets;
      const reason = redactSecrets(error instanceof Error ? error.message : 'rejected', [secret, headers]);
      throw new AppError('SMS_SENDER_INVALID', reason.slice(0, 300));
    }
  }

  function rowValues(configuration: SenderConfiguration): SenderRowValues {
    return {
      provider: configuration.provider,
      settings: JSON.stringify(configuration.settings),
      secretsEncrypted: encryptText(encryptionKey, JSON.stringify(configuration.secrets)),
      now: clock.now(),
    };
  }

  function decode(row: SmsSenderRow): SenderConfiguration {
    const secrets: unknown = JSON.parse(decryptSecrets(row));
    if (!Value.Check(StoredSecrets, secrets)) throw malformed(row);
    return { ...decodePublic(row), secrets };
  }

  /** For updates: secrets that no longer decrypt (SECRET_KEY changed) must be re-entered, not block the fix. */
  function decodeForUpdate(row: SmsSenderRow): SenderConfiguration {
    try {
      return decode(row);
    } catch {
      return { ...decodePublic(row), secrets: {} };
    }
  }

  function decryptSecrets(row: SmsSenderRow): string {
    try {
      return decryptText(encryptionKey, row.secrets_encrypted);
    } catch {
      throw new Error(
        `the secrets of the stored SMS sender "${row.name}" cannot be decrypted (was SECRET_KEY changed?)`,
      );
    }
  }

  return { activeProvider, listSenders, getSender, createSender, updateSender, deleteSender };
}

/** Provider construction errors name settings, never their values; they are re-thrown with their context. */
function describeFailure<T>(what: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    const reason = error instanceof AppError ? error.detail : error instanceof Error ? error.message : 'unknown error';
    // The cause is dropped on purpose: SDK errors may carry request details with credentials.
    throw new Error(`${what} cannot be used: ${reason}`);
  }
}

/** Views never need the secrets, so listing still works when they cannot be decrypted. */
function decodePublic(row: SmsSenderRow): Omit<SenderConfiguration, 'secrets'> {
  const settings: unknown = JSON.parse(row.settings);
  if (!Value.Check(StoredProvider, row.provider) || !Value.Check(StoredSettings, settings)) throw malformed(row);
  return { provider: row.provider, settings };
}

function malformed(row: SmsSenderRow): Error {
  return new Error(`the stored SMS sender "${row.name}" is malformed`);
}

function notFound(name: string): AppError {
  return new AppError('SMS_SENDER_NOT_FOUND', `No SMS sender named "${name}"`);
}
