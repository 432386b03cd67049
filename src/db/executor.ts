import type { Kysely, Transaction } from 'kysely';
import type { Database } from './database.js';

/** What repositories take as their first argument: the database or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;
export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
