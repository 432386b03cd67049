import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './2026-11-29T0000_initial.js';
import * as smsOutboxUserIndex from './2026-11-29T0100_sms_outbox_user_index.js';
import * as oauth from './2026-11-29T0200_oauth.js';
import * as auditAndLimits from './2026-11-29T0300_audit_and_limits.js';
import * as smsOutboxSentIndex from './2026-11-29T0400_sms_outbox_sent_index.js';
import * as authorizationCodeAndInbox from './2026-12-01T0000_authorization_code_and_inbox.js';
import * as deliveryFaults from './2026-12-01T0000_delivery_faults.js';
import * as securityHardening from './2026-12-01T0000_security_hardening.js';
import * as userValues from './2026-12-01T0000_user_values.js';
import * as groups from './2026-12-01T0900_groups.js';
import * as secretsAtRest from './2026-12-01T1200_secrets_at_rest.js';
import * as adminRoleValues from './2026-12-01T1300_admin_role_values.js';
import * as credentialEvents from './2026-12-01T1300_credential_events.js';
import * as filterAndPagingIndexes from './2026-12-01T1300_filter_and_paging_indexes.js';
import * as userCount from './2026-12-01T1310_user_count.js';
import * as groupEpochs from './2026-12-01T1600_group_epochs.js';
import * as userCountFreeShard from './2026-12-01T1800_user_count_free_shard.js';

/** An explicit list: works the same from TypeScript sources and from compiled output, on PGlite and PostgreSQL. */
const migrations: Record<string, Migration> = {
  '2026-11-29T0000_initial': initial,
  '2026-11-29T0100_sms_outbox_user_index': smsOutboxUserIndex,
  '2026-11-29T0200_oauth': oauth,
  '2026-11-29T0300_audit_and_limits': auditAndLimits,
  '2026-11-29T0400_sms_outbox_sent_index': smsOutboxSentIndex,
  '2026-12-01T0000_authorization_code_and_inbox': authorizationCodeAndInbox,
  '2026-12-01T0000_delivery_faults': deliveryFaults,
  '2026-12-01T0000_security_hardening': securityHardening,
  '2026-12-01T0000_user_values': userValues,
  '2026-12-01T0900_groups': groups,
  '2026-12-01T1200_secrets_at_rest': secretsAtRest,
  '2026-12-01T1300_admin_role_values': adminRoleValues,
  '2026-12-01T1300_credential_events': credentialEvents,
  '2026-12-01T1300_filter_and_paging_indexes': filterAndPagingIndexes,
  '2026-12-01T1310_user_count': userCount,
  '2026-12-01T1600_group_epochs': groupEpochs,
  '2026-12-01T1800_user_count_free_shard': userCountFreeShard,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
