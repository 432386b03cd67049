import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Hand-written table types, kept in step with migrations/. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface UsersTable {
  id: string;
  user_name: string;
  password_hash: string | null;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  is_admin: ColumnType<boolean, boolean | undefined, boolean>;
  version: ColumnType<number, number | undefined, number>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface UserClaimsTable {
  user_id: string;
  claim_uri: string;
  value: string;
}

/** One sub-attribute of one item of a multi-valued attribute (emails, phoneNumbers, ...); `primary` only when true. */
export interface UserValuesTable {
  user_id: string;
  attribute: string;
  ordinal: number;
  sub_attribute: string;
  value: string;
}

/** Maintained by triggers on users (migration 2026-12-01T1310_user_count): the sum of `users` is the count. */
export interface UserCountShardsTable {
  shard: number;
  users: ColumnType<string, never, never>;
}

/** Maintained by triggers on groups and group_members (migration 2026-12-01T1600_group_epochs). */
export interface GroupEpochsTable {
  shard: number;
  epoch: ColumnType<string, never, never>;
}

export interface VerificationCodesTable {
  id: string;
  user_id: string;
  scenario: string;
  number: string;
  code_hmac: string;
  lookup_hmac: string;
  failed_attempts: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export type SmsState = 'queued' | 'sending' | 'sent' | 'failed' | 'expired';

export interface SmsOutboxTable {
  id: string;
  user_id: string | null;
  purpose: string;
  to_number: string;
  /** Plaintext text of a message queued before texts were sealed (see sealed_body); null for all others. */
  body: ColumnType<string | null, string | null | undefined, string | null>;
  /** The text, sealed (src/sms/sms-body.ts); erased with `body` once sent, failed or expired. */
  sealed_body: ColumnType<string | null, string | null | undefined, string | null>;
  state: SmsState;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  locked_until: Timestamp | null;
  last_error: string | null;
  provider: string | null;
  provider_message_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  sent_at: Timestamp | null;
  /** When the code the message carries expires: retried until then, never sent after. Null: no deadline. */
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface SmsSendersTable {
  name: string;
  provider: string;
  settings: string;
  secrets_encrypted: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OAuthClientsTable {
  client_id: string;
  name: string;
  /** Null: a public client (no secret; the authorization code grant with PKCE only). */
  secret_hash: string | null;
  /** Space-separated. */
  grant_types: string;
  /** Space-separated. */
  scopes: string;
  /** Space-separated, matched exactly; a path (starting with /) is relative to the server's own base URL. */
  redirect_uris: Generated<string>;
  created_at: Timestamp;
  updated_at: Timestamp;
  secret_version: ColumnType<number, number | undefined, number>;
}

export interface OAuthAuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  code_challenge: string;
  scope: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  grant_id: string | null;
}

export interface SmsInboxTable {
  id: string;
  to_number: string;
  body: string;
  created_at: Timestamp;
}

export interface OAuthSigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk_encrypted: string;
  created_at: Timestamp;
  retired_at: Timestamp | null;
  publish_until: Timestamp | null;
}

export interface OAuthGrantsTable {
  id: string;
  user_id: string;
  client_id: string | null;
  scope: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface OAuthRefreshTokensTable {
  token_hash: string;
  grant_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface OAuthRevokedTokensTable {
  jti: string;
  expires_at: Timestamp;
}

export interface AuditEventsTable {
  id: string;
  occurred_at: Timestamp;
  type: string;
  user_id: string | null;
  actor_id: string | null;
  persona: string | null;
  masked_number: string | null;
  client_ip: string | null;
  request_id: string | null;
  details: string | null;
}

export interface RateLimitCountersTable {
  bucket: string;
  window_start: Timestamp;
  count: number;
  expires_at: Timestamp;
}

export interface GroupsTable {
  id: string;
  display_name: string;
  external_id: string | null;
  version: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** One direct membership: exactly one of member_user_id / member_group_id is set. */
export interface GroupMembersTable {
  group_id: string;
  member_user_id: string | null;
  member_group_id: string | null;
  added_at: Timestamp;
}

export interface LoginFailuresTable {
  /** `account:<user id>` or `ip:<keyed hash of the address>`. */
  subject: string;
  failures: number;
  first_failure_at: Timestamp;
  locked_until: Timestamp | null;
  lock_count: ColumnType<number, number | undefined, number>;
  updated_at: Timestamp;
}

/** The single row whose epoch every credential revocation bumps (src/auth/credential-events.ts). */
export interface CredentialEpochTable {
  id: number;
  epoch: ColumnType<string, string | number, string | number>;
}

export interface CredentialEventsTable {
  epoch: ColumnType<string, string | number, never>;
  /** Space-separated `kind:id` (user, client, grant, token). */
  targets: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface Database {
  users: UsersTable;
  user_claims: UserClaimsTable;
  user_values: UserValuesTable;
  user_count_shards: UserCountShardsTable;
  group_epochs: GroupEpochsTable;
  verification_codes: VerificationCodesTable;
  sms_outbox: SmsOutboxTable;
  sms_senders: SmsSendersTable;
  oauth_clients: OAuthClientsTable;
  oauth_authorization_codes: OAuthAuthorizationCodesTable;
  sms_inbox: SmsInboxTable;
  oauth_signing_keys: OAuthSigningKeysTable;
  oauth_grants: OAuthGrantsTable;
  oauth_refresh_tokens: OAuthRefreshTokensTable;
  oauth_revoked_tokens: OAuthRevokedTokensTable;
  audit_events: AuditEventsTable;
  rate_limit_counters: RateLimitCountersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  login_failures: LoginFailuresTable;
  credential_epoch: CredentialEpochTable;
  credential_events: CredentialEventsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserRowUpdate = Updateable<UsersTable>;
export type VerificationCodeRow = Selectable<VerificationCodesTable>;
export type SmsOutboxRow = Selectable<SmsOutboxTable>;
export type SmsSenderRow = Selectable<SmsSendersTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type OAuthClientRow = Selectable<OAuthClientsTable>;
export type OAuthSigningKeyRow = Selectable<OAuthSigningKeysTable>;
export type OAuthGrantRow = Selectable<OAuthGrantsTable>;
export type GroupRow = Selectable<GroupsTable>;
