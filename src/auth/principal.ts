/** Who is calling. Basic and bearer callers produce the same shape; bearer ones carry scopes. */
export interface Principal {
  /** The user's id; for a token with no user (`subject: 'client'`) the OAuth client id. */
  userId: string;
  userName: string;
  isAdmin: boolean;
  scheme: 'basic' | 'bearer';
  /** Granted scopes for bearer tokens; undefined means role-based (Basic) rules apply. */
  scopes?: readonly string[];
  /** Bearer only: whom the token speaks for; 'client' tokens (client_credentials) have no user. */
  subject?: 'user' | 'client';
  /** Bearer only: the OAuth client the token was issued to, when there was one. */
  clientId?: string;
}

/** The actor of a write, as the business rules see it (WSO2's persona). */
export type Actor =
  | { kind: 'self'; userId: string }
  | {
      kind: 'admin';
      userId: string;
      /** May grant or revoke administration and touch administrators' accounts (see ROLE_SCOPES). */
      mayManageAdministrators: boolean;
    };

export type AdminActor = Extract<Actor, { kind: 'admin' }>;
