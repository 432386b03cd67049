import { randomUUID } from 'node:crypto';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { AppError } from '../../src/errors/app-error.js';
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, parseUserFilter } from '../../src/scim/user-query.js';
import { CLAIM } from '../../src/users/claims.js';
import { userFilterToWhere } from '../../src/users/user-list.js';

// ---------------------------------------------------------------------------------------------
// Databases: PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (a fresh database per run).

interface TestDatabase {
  handle: DatabaseHandle;
  dispose(): Promise<void>;
}

async function createPgliteDatabase(): Promise<TestDatabase> {
  const handle = await createDatabase({ kind: 'pglite', dataDir: null });
  await migrateToLatest(handle.db);
  return { handle, dispose: () => handle.db.destroy() };
}

async function withAdminClient(adminUrl: string, run: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

async function createPostgresDatabase(adminUrl: string): Promise<TestDatabase> {
  // The name is generated here, never taken from input, so it can be spliced into DDL.
  const name = `filter_${randomUUID().replaceAll('-', '')}`;
  await withAdminClient(adminUrl, (client) => client.query(`create database "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = await createDatabase({ kind: 'postgres', url: url.toString() });
  await migrateToLatest(handle.db);
  return {
    handle,
    dispose: async () => {
      await handle.db.destroy();
      await withAdminClient(adminUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

const adminUrl = process.env.TEST_DATABASE_URL;
const targets: { name: string; create: () => Promise<TestDatabase> }[] = [
  { name: 'PGlite', create: createPgliteDatabase },
  ...(adminUrl ? [{ name: 'PostgreSQL', create: () => createPostgresDatabase(adminUrl) }] : []),
];

// ---------------------------------------------------------------------------------------------
// Fixtures

const WSO2 = 'http://wso2.org/claims';

interface UserFixture {
  userName: string;
  active: boolean;
  created: string;
  modified: string;
  claims: Record<string, string>;
  /** Multi-valued attributes: items of sub-attribute → stored text. */
  values?: Record<string, Record<string, string>[]>;
}

const USERS = {
  alice: {
    userName: 'Alice',
    active: true,
    created: '2026-01-10T10:00:00Z',
    modified: '2026-06-01T00:00:00Z',
    claims: {
      [`${WSO2}/givenname`]: 'Alice',
      [`${WSO2}/lastname`]: 'Smith',
      [`${WSO2}/title`]: 'Engineer',
      [`${WSO2}/externalid`]: 'Ext-A',
      [`${WSO2}/employeeNumber`]: 'E100',
      [CLAIM.mobileNumbers]: '+15550001,+15550002',
      [CLAIM.verifiedMobileNumbers]: '+15550001',
      [CLAIM.phoneVerified]: 'true',
    },
    values: {
      emails: [{ type: 'work', value: 'alice@example.com', primary: 'true' }],
      phoneNumbers: [{ type: 'mobile', value: '+15550001' }],
    },
  },
  bob: {
    userName: 'bob',
    active: false,
    created: '2026-02-10T10:00:00Z',
    modified: '2026-01-20T00:00:00Z',
    claims: {
      [`${WSO2}/givenname`]: 'Bob',
      [`${WSO2}/title`]: '100% remote',
      [CLAIM.pendingMobileNumber]: '+15559999',
    },
    values: {
      // Work email elsewhere, home email at example.com: the value-path counterexample.
      emails: [
        { type: 'work', value: 'bob@corp.test' },
        { type: 'home', value: 'bob@example.com' },
      ],
      phoneNumbers: [{ type: 'work', value: '+442000' }],
    },
  },
  carol: {
    userName: 'Carol_X',
    active: true,
    created: '2026-03-10T10:00:00Z',
    modified: '2026-03-15T00:00:00Z',
    claims: {
      [`${WSO2}/givenname`]: 'Carolina',
      [`${WSO2}/title`]: 'back\\slash',
      [`${WSO2}/nickname`]: "O'Brien",
      [`${WSO2}/displayName`]: 'a_b',
    },
    values: {
      addresses: [
        { type: 'work', locality: 'Paris', country: 'FR' },
        { type: 'home', locality: 'Berlin', country: 'DE' },
      ],
    },
  },
  dave: {
    userName: 'dave',
    active: false,
    created: '2026-04-10T10:00:00Z',
    modified: '2026-04-10T10:00:00Z',
    claims: {},
  },
  eve: {
    userName: 'eve',
    active: true,
    created: '2026-05-10T10:00:00Z',
    modified: '2026-07-01T12:00:00.123456Z',
    claims: {
      [`${WSO2}/externalid`]: 'ext-a',
      [`${WSO2}/displayName`]: 'Eve%',
      [CLAIM.mobileNumbers]: '+4470000, +4471111',
    },
    values: { emails: [{ type: 'other', value: 'EVE@Example.COM' }] },
  },
} satisfies Record<string, UserFixture>;

type UserKey = keyof typeof USERS;
const ALL: UserKey[] = ['alice', 'bob', 'carol', 'dave', 'eve'];
const except = (...keys: UserKey[]): UserKey[] => ALL.filter((key) => !keys.includes(key));

async function seed(db: Kysely<Database>): Promise<Map<UserKey, string>> {
  const ids = new Map<UserKey, string>();
  for (const key of ALL) {
    const user: UserFixture = USERS[key];
    const id = randomUUID();
    ids.set(key, id);
    await db
      .insertInto('users')
      .values({
        id,
        user_name: user.userName,
        active: user.active,
        created_at: user.created,
        updated_at: user.modified,
      })
      .execute();
    const claims = Object.entries(user.claims).map(([claim_uri, value]) => ({ user_id: id, claim_uri, value }));
    if (claims.length > 0) await db.insertInto('user_claims').values(claims).execute();
    const values = Object.entries(user.values ?? {}).flatMap(([attribute, items]) =>
      items.flatMap((item, ordinal) =>
        Object.entries(item).map(([sub_attribute, value]) => ({
          user_id: id,
          attribute,
          ordinal,
          sub_attribute,
          value,
        })),
      ),
    );
    if (values.length > 0) await db.insertInto('user_values').values(values).execute();
  }
  return ids;
}

function filterError(filter: string): AppError {
  try {
    parseUserFilter(filter);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error(`filter was accepted: ${filter}`);
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation (no database needed)

describe('parseUserFilter rejects invalid filters with INVALID_FILTER', () => {
  it.each([
    ['garbage', '!!!'],
    ['a bare word', 'garbage'],
    ['an empty filter', ''],
    ['a missing operator', 'userName'],
    ['a missing value', 'userName eq'],
    ['a bare value with a quote', 'userName eq ali"ce'],
    ['a single-quoted string', "userName eq 'alice'"],
    ['an unterminated string', 'userName eq "alice'],
    ['an invalid escape', 'userName eq "a\\qb"'],
    ['a NUL character', 'userName eq "a\\u0000b"'],
    ['an unclosed parenthesis', '(userName eq "a"'],
    ['an extra closing parenthesis', 'userName eq "a")'],
    ['unbalanced nested parentheses', '((userName eq "a") or (userName eq "b")'],
    ['an unclosed value path', 'emails[type eq "work"'],
    ['a dangling and', 'userName eq "a" and'],
    ['a leading or', 'or userName eq "a"'],
    ['an unknown logical operator', 'userName eq "a" constructor userName eq "b"'],
    ['an unknown operator', 'userName xx "a"'],
    ['a SQL operator', 'userName like "a%"'],
    ['a nested value path', 'emails[value[type eq "work"]]'],
    ['a qualified name inside a value path', 'emails[emails.value eq "x"]'],
    ['password', 'password eq "secret"'],
    [
      'a write-only extension attribute',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:verifyMobile eq true',
    ],
    ['a complex attribute without sub-attribute', 'name eq "Alice"'],
    ['a complex attribute without value', 'addresses eq "Paris"'],
    ['a sub-attribute of a simple attribute', 'userName.value eq "x"'],
    ['a too-deep path', 'name.givenName.x eq "x"'],
    ['an unknown schema', 'urn:example:bogus:userName eq "x"'],
    ['gt on a boolean', 'active gt true'],
    ['co on a boolean', 'active co "t"'],
    ['a string for a boolean', 'active eq "true"'],
    ['a boolean for a string', 'userName eq true'],
    ['a number for a string', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 100'],
    ['gt null', 'title gt null'],
    ['a boolean claim with gt', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:phoneVerified gt false'],
    ['an invalid date', 'meta.created gt "yesterday"'],
    ['an impossible date', 'meta.created gt "2026-02-30T00:00:00Z"'],
    ['an impossible time', 'meta.lastModified lt "2026-01-01T24:00:00Z"'],
    ['co on a date', 'meta.created co "2026"'],
    ['a number for a date', 'meta.created gt 2026'],
    ['gt on a static boolean sub-attribute', 'emails[primary gt false]'],
  ])('%s', (_label, filter) => {
    const error = filterError(filter);
    expect(error.code).toBe('INVALID_FILTER');
    expect(error.detail.length).toBeGreaterThan(0);
  });

  it('names the unknown attribute', () => {
    expect(filterError('favouriteColour eq "blue"').detail).toContain('favouriteColour');
    expect(filterError('name.nickname eq "x"').detail).toContain('name.nickname');
    expect(filterError('emails[colour eq "blue"]').detail).toContain('colour');
  });

  it('names the unknown operator', () => {
    expect(filterError('userName regex "a"').detail).toContain('regex');
  });

  it(`rejects filters longer than ${MAX_FILTER_LENGTH} characters`, () => {
    const filter = `userName eq "${'a'.repeat(5000)}"`;
    expect(filter.length).toBeGreaterThan(MAX_FILTER_LENGTH);
    expect(filterError(filter).detail).toMatch(/at most 2048 are accepted/);
  });

  it(`rejects nesting deeper than ${MAX_FILTER_DEPTH}`, () => {
    const filter = `${'('.repeat(100)}userName eq "a"${')'.repeat(100)}`;
    expect(filterError(filter).detail).toMatch(/nested too deeply/);
    expect(filterError(`${'not ('.repeat(40)}userName eq "a"${')'.repeat(40)}`).code).toBe('INVALID_FILTER');
    expect(() => parseUserFilter(`${'('.repeat(10)}userName eq "a"${')'.repeat(10)}`)).not.toThrow();
  });

  it('fails fast on unterminated strings full of line breaks', () => {
    const started = performance.now();
    expect(filterError(`userName eq "${'\n'.repeat(60)}`).code).toBe('INVALID_FILTER');
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('binds literals as parameters', () => {
    const where = userFilterToWhere(parseUserFilter(`title eq "x'; drop table users; --" or userName sw "a%"`));
    const compiled = compileOnly.selectFrom('users').select('id').where(where).compile();
    expect(compiled.sql).not.toContain('drop table');
    expect(compiled.sql).not.toContain('a%');
    expect(compiled.parameters).toContain("x'; drop table users; --");
    expect(compiled.parameters).toContain('a\\%%');
  });
});

/** Compiles queries without a database. */
const compileOnly = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

// ---------------------------------------------------------------------------------------------
// Filters against a database

describe.each(targets)('SCIM user filters on $name', ({ create }) => {
  let database: TestDatabase;
  let ids: Map<UserKey, string>;

  beforeAll(async () => {
    database = await create();
    ids = await seed(database.handle.db);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  async function matching(filter: string): Promise<UserKey[]> {
    const where = userFilterToWhere(parseUserFilter(filter));
    const rows = await database.handle.db.selectFrom('users').select('id').where(where).execute();
    const keys = rows.map((row) => ALL.find((key) => ids.get(key) === row.id));
    return keys.filter((key): key is UserKey => key !== undefined).sort();
  }

  function idOf(key: UserKey): string {
    const id = ids.get(key);
    if (id === undefined) throw new Error(`no id for ${key}`);
    return id;
  }

  const cases = (table: [string, UserKey[]][]) =>
    it.each(table)('%s', async (filter, expected) => {
      expect(await matching(filter)).toEqual([...expected].sort());
    });

  describe('userName (column, case-insensitive)', () => {
    cases([
      ['userName eq "alice"', ['alice']],
      ['userName eq "ALICE"', ['alice']],
      ['USERNAME EQ "Alice"', ['alice']],
      ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob"', ['bob']],
      ['URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME Eq "BOB"', ['bob']],
      ['userName ne "alice"', except('alice')],
      ['userName co "A"', ['alice', 'carol', 'dave']],
      ['userName sw "CAR"', ['carol']],
      ['userName ew "E"', ['alice', 'dave', 'eve']],
      ['userName co "_"', ['carol']],
      ['userName co "%"', []],
      ['userName gt "c"', ['carol', 'dave', 'eve']],
      ['userName ge "carol_x"', ['carol', 'dave', 'eve']],
      ['userName lt "bob"', ['alice']],
      ['userName le "BOB"', ['alice', 'bob']],
      ['userName pr', ALL],
      ['userName eq "\\u0061lice"', ['alice']],
    ]);
  });

  describe('active, id and meta (columns)', () => {
    cases([
      ['active eq true', ['alice', 'carol', 'eve']],
      ['active eq false', ['bob', 'dave']],
      ['active ne true', ['bob', 'dave']],
      ['active pr', ALL],
      ['id eq "not-a-uuid"', []],
      ['id ne "not-a-uuid"', ALL],
      ['id eq "00000000-0000-0000-0000-000000000000"', []],
      ['id pr', ALL],
      ['meta.lastModified gt "2026-05-01T00:00:00Z"', ['alice', 'eve']],
      ['meta.lastModified gt "2026-07-01T12:00:00.123Z"', ['eve']],
      ['meta.lastModified gt "2026-07-01T12:00:00.123456Z"', []],
      ['meta.LASTMODIFIED ge "2026-04-10T10:00:00Z"', ['alice', 'dave', 'eve']],
      ['meta.created lt "2026-03-10T00:00:00Z"', ['alice', 'bob']],
      ['meta.created le "2026-03-10T10:00:00Z"', ['alice', 'bob', 'carol']],
      ['meta.created ge "2026-04-10"', ['dave', 'eve']],
      ['meta.created eq "2026-01-10T10:00:00Z"', ['alice']],
      ['meta.created eq "2026-01-10T12:00:00+02:00"', ['alice']],
      ['meta.created ne "2026-01-10T10:00:00Z"', except('alice')],
      ['meta.created pr', ALL],
    ]);

    it('compares id as text, whatever the hex case', async () => {
      expect(await matching(`id eq "${idOf('alice')}"`)).toEqual(['alice']);
      expect(await matching(`id eq "${idOf('alice').toUpperCase()}"`)).toEqual(['alice']);
      expect(await matching(`id ne "${idOf('alice')}"`)).toEqual(except('alice'));
      expect(await matching(`id sw "${idOf('bob').slice(0, 13)}"`)).toEqual(['bob']);
      expect(await matching(`id co "${idOf('carol').slice(9, 23).toUpperCase()}"`)).toEqual(['carol']);
    });
  });

  describe('single-valued claims', () => {
    cases([
      ['name.givenName eq "alice"', ['alice']],
      ['NAME.GIVENNAME sw "car"', ['carol']],
      ['name.givenName ew "B"', ['bob']],
      ['name.givenName co "LIC"', ['alice']],
      ['name.givenName gt "b"', ['bob', 'carol']],
      ['name.givenName le "bob"', ['alice', 'bob']],
      ['name.givenName pr', ['alice', 'bob', 'carol']],
      ['name.givenName ne "Alice"', except('alice')],
      ['not (name.givenName eq "Alice")', except('alice')],
      ['name.givenName eq null', ['dave', 'eve']],
      ['name.givenName ne null', ['alice', 'bob', 'carol']],
      ['name pr', ['alice', 'bob', 'carol']],
      ['title ne "Engineer"', except('alice')],
      ['externalId eq "Ext-A"', ['alice']],
      ['externalId eq "ext-a"', ['eve']],
      ['externalId sw "EXT"', []],
      ['urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "smith"', ['alice']],
    ]);
  });

  describe('LIKE metacharacters and SQL in literals', () => {
    cases([
      ['title co "%"', ['bob']],
      ['title co "0%"', ['bob']],
      ['title ew "% remote"', ['bob']],
      ['title sw "100%"', ['bob']],
      ['title co "\\\\"', ['carol']],
      ['title eq "back\\\\slash"', ['carol']],
      ['title co "k\\\\s"', ['carol']],
      ['displayName co "_"', ['carol']],
      ['displayName sw "a_"', ['carol']],
      ['displayName ew "%"', ['eve']],
      ['displayName co ""', ['carol', 'eve']],
      [`nickName eq "O'Brien"`, ['carol']],
      ['nickName eq "O\\u0027brien"', ['carol']],
      [`userName eq "alice' or '1'='1"`, []],
      [`userName eq "alice\\" or \\"1\\"=\\"1"`, []],
      [`title eq "x'; drop table users; --"`, []],
      [`title co "') or true or ('"`, []],
      [`emails[value eq "x') or exists(select 1) or ('"]`, []],
    ]);

    it('leaves the tables alone', async () => {
      await matching(`title eq "x'); delete from users; --"`);
      const { count } = await database.handle.db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow();
      expect(Number(count)).toBe(ALL.length);
    });
  });

  describe('logical operators', () => {
    cases([
      ['userName eq "alice" or userName eq "carol_x" and active eq false', ['alice']],
      ['(userName eq "alice" or userName eq "carol_x") and active eq false', []],
      ['userName eq "dave" or userName eq "bob" and active eq true', ['dave']],
      ['userName eq "dave" AND active eq false OR userName eq "eve"', ['dave', 'eve']],
      ['not (active eq true) and userName sw "b"', ['bob']],
      ['not (active eq false and userName sw "b")', except('bob')],
      ['NOT (userName eq "alice") AND (title pr OR emails pr)', ['bob', 'carol', 'eve']],
      ['not (not (userName eq "alice"))', ['alice']],
      ['((userName eq "alice")) or ((((userName eq "bob"))))', ['alice', 'bob']],
      ['userName eq "alice" and userName eq "bob"', []],
      ['userName eq "alice" or name.givenName sw "car" or title co "%"', ['alice', 'bob', 'carol']],
    ]);
  });

  describe('emails, phoneNumbers, addresses (typed claims)', () => {
    cases([
      ['emails[type eq "work" and value co "@example.com"]', ['alice']],
      ['emails[TYPE EQ "WORK" AND VALUE CO "@EXAMPLE.COM"]', ['alice']],
      ['emails[type eq "work"] and emails[value co "@example.com"]', ['alice', 'bob']],
      ['emails co "@example.com"', ['alice', 'bob', 'eve']],
      ['emails.value eq "bob@example.com"', ['bob']],
      ['emails eq "eve@example.com"', ['eve']],
      ['emails.value ne "bob@example.com"', except('bob')],
      ['emails[value ne "bob@example.com"]', ['alice', 'bob', 'eve']],
      ['emails[type eq "home"]', ['bob']],
      ['emails[type eq "work"]', ['alice', 'bob']],
      ['emails.type eq "other"', ['eve']],
      ['emails[type eq "fax"]', []],
      ['emails[type sw "h" or type eq "OTHER"]', ['bob', 'eve']],
      ['emails[not (type eq "work")]', ['bob', 'eve']],
      ['emails[primary eq true]', ['alice']],
      ['emails[primary eq true and value ew "example.com"]', ['alice']],
      ['emails[type eq "work" and primary eq true]', ['alice']],
      ['emails[type eq "work"].value eq "bob@corp.test"', ['bob']],
      ['emails[type eq "home"].value eq "bob@corp.test"', []],
      ['emails[type eq "work" and not (value co "example")]', ['bob']],
      ['emails pr', ['alice', 'bob', 'eve']],
      ['not (emails pr)', ['carol', 'dave']],
      ['emails eq null', ['carol', 'dave']],
      ['phoneNumbers[type eq "mobile" and value eq "+15550001"]', ['alice']],
      ['phoneNumbers[type eq "mobile"].value eq "+15550001"', ['alice']],
      ['phoneNumbers.value eq "+442000"', ['bob']],
      ['phoneNumbers[type eq "work"]', ['bob']],
      ['phoneNumbers sw "+"', ['alice', 'bob']],
      ['addresses[type eq "work" and locality eq "paris" and country eq "FR"]', ['carol']],
      ['addresses[locality eq "Paris" and country eq "DE"]', []],
      ['addresses.locality eq "Paris" and addresses.country eq "DE"', ['carol']],
      ['addresses[type eq "home"].locality eq "BERLIN"', ['carol']],
      ['addresses pr', ['carol']],
    ]);
  });

  describe('extension attributes', () => {
    const enterprise = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    cases([
      [`${enterprise}:employeeNumber eq "e100"`, ['alice']],
      [`${enterprise.toUpperCase()}:EMPLOYEENUMBER pr`, ['alice']],
      ['employeeNumber eq "E100"', ['alice']],
      [`${enterprise}:employeeNumber ne "E100"`, except('alice')],
      [`${enterprise}:pendingMobileNumber eq "+15559999"`, ['bob']],
      [`${enterprise}:pendingMobileNumber pr`, ['bob']],
      [`${enterprise}:phoneVerified eq true`, ['alice']],
      [`${enterprise}:phoneVerified eq false`, except('alice')],
      [`${enterprise}:phoneVerified ne true`, except('alice')],
    ]);
  });

  describe('WSO2 list attributes (comma-joined claims)', () => {
    cases([
      ['urn:scim:wso2:schema:mobileNumbers eq "+15550002"', ['alice']],
      ['mobileNumbers eq "+15550001"', ['alice']],
      ['mobileNumbers eq "+4471111"', ['eve']],
      ['mobileNumbers eq "+1555000"', []],
      ['mobileNumbers sw "+447"', ['eve']],
      ['mobileNumbers ew "0002"', ['alice']],
      ['mobileNumbers co "5550"', ['alice']],
      ['mobileNumbers co ","', []],
      ['mobileNumbers co "%"', []],
      ['mobileNumbers pr', ['alice', 'eve']],
      ['mobileNumbers ne "+15550002"', except('alice')],
      ['mobileNumbers.value eq "+4470000"', ['eve']],
      ['mobileNumbers[value sw "+1" and not (value eq "+15550001")]', ['alice']],
      ['mobileNumbers[value eq "+4470000" and value eq "+4471111"]', []],
      ['mobileNumbers eq "+4470000" and mobileNumbers eq "+4471111"', ['eve']],
      ['urn:scim:wso2:schema:verifiedMobileNumbers eq "+15550001"', ['alice']],
      ['urn:scim:wso2:schema:verifiedMobileNumbers eq "+15550002"', []],
    ]);
  });
});
