import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import type { QueryFilter as UserFilter } from '../../src/query/query-filter.js';
import { parseUserFilter } from '../../src/scim/user-query.js';
import { CLAIM } from '../../src/users/claims.js';
import { userFilterToWhere } from '../../src/users/user-list.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { grammarFilter } from './arbitraries.js';
import { ENTERPRISE, hostileString, NASTY_STRINGS, runs, WSO2 } from './fuzz-support.js';

const CLAIMS = 'http://wso2.org/claims';
// The Cyrillic 'а' makes the third a lookalike of the administrator.
const SEEDED_NAMES = ['alice', "o'malley\\%_", 'аdmin'] as const;

const SEEDS: readonly string[] = [
  'userName eq "bjensen"',
  'name.familyName co "O\'Malley"',
  'userName sw "J"',
  'emails[type eq "work" and value co "@example.com"]',
  'emails[type eq "work"].value eq "a@b.c"',
  'meta.lastModified gt "2011-05-13T04:42:34Z"',
  'not (active eq false) and phoneNumbers.value pr',
  `${WSO2}:mobileNumbers[value sw "077"]`,
  `${ENTERPRISE}:phoneVerified eq true`,
  'id eq "2819c223-7f76-453a-919d-413861904646"',
  'title pr or (userType eq "Employee" and displayName ew "x")',
];

const INSERTS = ['"', '\\', '(', ')', '[', ']', ' ', 'and ', 'or ', 'not ', 'pr', '.', ':', '\u0000', '\n', 'é', '😀'];

type Mutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...INSERTS), fc.constantFrom(...NASTY_STRINGS)),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(text: string, change: Mutation): string {
  const at = text.length === 0 ? 0 : change.at % (text.length + 1);
  switch (change.kind) {
    case 'insert':
      return text.slice(0, at) + change.text + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + change.length);
    case 'duplicate':
      return text.slice(0, at + change.length) + text.slice(at);
    case 'truncate':
      return text.slice(0, at);
  }
}

const mutatedFilter = fc
  .tuple(fc.oneof(fc.constantFrom(...SEEDS), grammarFilter), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([text, changes]) => changes.reduce(mutate, text));

/** Parses, or proves the rejection is an INVALID_FILTER AppError; anything else fails the property. */
function parseOrReject(text: string): UserFilter | undefined {
  try {
    return parseUserFilter(text);
  } catch (error) {
    if (!(error instanceof AppError)) {
      throw new Error(`not an AppError for ${JSON.stringify(text)}: ${String(error)}`);
    }
    expect(error.code).toBe('INVALID_FILTER');
    return undefined;
  }
}

describe('filter parser under fuzzing', () => {
  let database: TestDatabase;
  let parsedCount = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database.handle;
    const now = new Date('2026-03-01T10:00:00Z');
    const users = [
      {
        name: SEEDED_NAMES[0],
        claims: { [`${CLAIMS}/givenname`]: 'Alice' },
        values: [{ attribute: 'emails', sub_attribute: 'value', value: 'alice@example.com' }],
      },
      {
        name: SEEDED_NAMES[1],
        claims: { [CLAIM.phoneVerified]: 'true' },
        values: [
          { attribute: 'phoneNumbers', sub_attribute: 'type', value: 'mobile' },
          { attribute: 'phoneNumbers', sub_attribute: 'value', value: '+94771234567' },
        ],
      },
      {
        name: SEEDED_NAMES[2],
        claims: { [CLAIM.mobileNumbers]: '0771,0772' },
        values: [
          { attribute: 'emails', sub_attribute: 'type', value: 'work' },
          { attribute: 'emails', sub_attribute: 'value', value: 'w@x.org' },
        ],
      },
    ];
    for (const user of users) {
      const id = randomUUID();
      await db
        .insertInto('users')
        .values({ id, user_name: user.name, password_hash: null, created_at: now, updated_at: now })
        .execute();
      await db
        .insertInto('user_claims')
        .values(Object.entries(user.claims).map(([uri, value]) => ({ user_id: id, claim_uri: uri, value })))
        .execute();
      await db
        .insertInto('user_values')
        .values(user.values.map((row) => ({ ...row, user_id: id, ordinal: 0 })))
        .execute();
    }
  });
  afterAll(async () => {
    await database.close();
  });

  async function runAgainstDatabase(filter: UserFilter): Promise<void> {
    const { db } = database.handle;
    await db.selectFrom('users').select('users.id').where(userFilterToWhere(filter)).execute();
    parsedCount += 1;
  }

  it('arbitrary strings: parsed or rejected with INVALID_FILTER, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, fc.string({ unit: 'binary', maxLength: 200 })), (text) => {
        parseOrReject(text);
      }),
      { numRuns: runs(500) },
    );
  });

  it('grammar-shaped filters: rejected with INVALID_FILTER or run as SQL without a database error', async () => {
    const before = parsedCount;
    await fc.assert(
      fc.asyncProperty(grammarFilter, async (text) => {
        const filter = parseOrReject(text);
        if (filter !== undefined) await runAgainstDatabase(filter);
      }),
      // Found by this property: a lone surrogate reached PGlite as invalid UTF-8 (SQLSTATE 22021).
      { numRuns: runs(400), examples: [['(userName eq "\\udc00" and userName eq "x")'], ['title co "\\ud800"']] },
    );
    // The generator is meant to reach SQL; a grammar that only produced rejections would prove nothing.
    expect(parsedCount - before).toBeGreaterThan(runs(400) / 10);
  });

  it('mutated valid filters: rejected with INVALID_FILTER or run as SQL without a database error', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedFilter, async (text) => {
        const filter = parseOrReject(text);
        if (filter !== undefined) await runAgainstDatabase(filter);
      }),
      { numRuns: runs(200) },
    );
  });

  it('oversized and deeply nested filters are rejected quickly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.constantFrom('(', 'not (', 'emails[', '"', '\\', 'not ', '(\n'),
        (depth, opener) => {
          const text = `${opener.repeat(depth)}userName eq "x"${')'.repeat(depth)}`;
          const started = performance.now();
          parseOrReject(text);
          expect(performance.now() - started).toBeLessThan(1000);
        },
      ),
      { numRuns: runs(60) },
    );
  });

  it('SQL injection attempts are values, not SQL', async () => {
    const { db } = database.handle;
    for (const attempt of NASTY_STRINGS) {
      for (const op of ['eq', 'co', 'sw', 'ew', 'gt']) {
        const filter = parseOrReject(`userName ${op} ${JSON.stringify(attempt)}`);
        if (filter === undefined) continue;
        const rows = await db.selectFrom('users').select('user_name').where(userFilterToWhere(filter)).execute();
        if (op === 'eq') {
          const same = SEEDED_NAMES.filter((name) => name.toLowerCase() === attempt.toLowerCase());
          expect(rows.map((row) => row.user_name)).toEqual(same);
        }
      }
    }
    const count = await db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    expect(Number(count.count)).toBe(3);
  });
});
