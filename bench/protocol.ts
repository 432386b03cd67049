import type { DatabaseTarget } from '../src/db/create-db.js';

/** What bench/run.ts and the server processes it forks say to each other. */

export const ADMIN_PASSWORD = 'bench-admin-password';
export const SECRET = 'bench-secret-key-that-is-long-enough-000000';

export interface ServerSpec {
  database: DatabaseTarget;
  /** Users to seed (0: none). */
  users: number;
  /** Seed the group scenarios' groups (one of 50,000 members, 1,000 groups of one user). */
  groups: boolean;
  /** How many user ids to hand back (the random users of the scenarios). */
  sample: number;
  /** The server's configuration, as environment variables. */
  env: Record<string, string>;
}

export interface SeededGroups {
  bigGroupId: string;
  /** A user (not in the sample) who is a direct member of 1,000 groups. */
  joinerId: string;
}

export type ParentMessage = { type: 'rss' } | { type: 'loop-reset' } | { type: 'loop-max' } | { type: 'inbox' };

export type ServerMessage =
  | { type: 'log'; line: string }
  | { type: 'ready'; url: string; ids: string[]; groups: SeededGroups | undefined; seedSeconds: number }
  | { type: 'rss'; bytes: number }
  | { type: 'loop-reset' }
  | { type: 'loop-max'; ms: number }
  | { type: 'inbox'; messages: { to: string; body: string }[] };
