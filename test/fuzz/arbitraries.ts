import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  CORE,
  ENTERPRISE,
  hostileJson,
  hostileString,
  lookalikePhone,
  nestedValue,
  replaceLeaf,
  WSO2,
} from './fuzz-support.js';

// ---------------------------------------------------------------------------------------------
// SCIM filters

const FILTER_PATHS: readonly string[] = [
  'userName',
  'USERNAME',
  'id',
  'active',
  'meta.created',
  'meta.lastModified',
  'meta.resourceType',
  'meta',
  'name',
  'name.givenName',
  'name.familyName',
  'name.nope',
  'displayName',
  'externalId',
  'title',
  'emails',
  'emails.value',
  'emails.type',
  'emails.primary',
  'emails.display',
  'phoneNumbers',
  'phoneNumbers.value',
  'phoneNumbers.type',
  'addresses.locality',
  'addresses',
  'roles',
  'roles.value',
  'groups',
  'password',
  `urn:ietf:params:scim:schemas:core:2.0:User:userName`,
  `urn:ietf:params:scim:schemas:core:2.0:User:emails.value`,
  `${ENTERPRISE}:employeeNumber`,
  `${ENTERPRISE}:phoneVerified`,
  `${ENTERPRISE}:pendingMobileNumber`,
  `${ENTERPRISE}:manager.value`,
  'phoneVerified',
  'pendingMobileNumber',
  'employeeNumber',
  `${WSO2}:mobileNumbers`,
  'mobileNumbers',
  'verifiedMobileNumbers',
];

const ODD_FILTER_PATHS: readonly string[] = [
  'urn:unknown:schema:userName',
  'constructor',
  '__proto__',
  'emails.__proto__',
  'not',
  'and',
  'a.b.c',
];

const COMPLEX = ['emails', 'phoneNumbers', 'addresses', 'name', 'roles', 'mobileNumbers', `${WSO2}:mobileNumbers`, 'x'];
const SUB_PATHS = ['value', 'type', 'primary', 'display', 'locality', 'nope', 'emails.value', 'VALUE'];
const OPERATORS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'EQ', 'Co', 'pr'];
const ODD_OPERATORS = ['xx', 'eqq', '=', 'and', 'not'];

const filterPath = fc.oneof(
  { arbitrary: fc.constantFrom(...FILTER_PATHS), weight: 5 },
  fc.constantFrom(...ODD_FILTER_PATHS),
);
const operator = fc.oneof({ arbitrary: fc.constantFrom(...OPERATORS), weight: 5 }, fc.constantFrom(...ODD_OPERATORS));

const dateLiteral = fc.oneof(
  fc
    .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
    .map((date) => date.toISOString()),
  fc.constantFrom(
    '2026-02-29',
    '2024-02-29',
    '2026-13-01',
    '0000-01-01',
    '9999-12-31T23:59:59.999999999+15:59',
    '0001-01-01T00:00:00-15:59',
    '2026-01-01T24:00:00Z',
    '2026-01-01t10:00z',
    '2026-1-1',
    '+275760-09-13T00:00:00Z',
  ),
);

/** A comparison value as filter text: JSON strings, raw quoted text with odd escapes, numbers, keywords. */
const valueText = fc.oneof(
  hostileString.map((text) => JSON.stringify(text)),
  dateLiteral.map((text) => JSON.stringify(text)),
  fc
    .string({ unit: fc.constantFrom('\\', 'u', '0', 'n', '"', 'a', 'd', '8', '\u0000', '\n'), maxLength: 8 })
    .map((inner) => `"${inner}"`),
  fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })).map(String),
  fc.constantFrom('true', 'false', 'null', 'TRUE', 'Null', '1e999', '-0', '0x10', '01', 'NaN', "'single'", 'bare'),
  fc.constant(`"${randomUUID()}"`),
  fc.constant(`"${randomUUID().toUpperCase()}"`),
);

const space = fc.constantFrom(' ', '  ', '\t', '\n', ' \u00a0');

/** Filters shaped like the grammar (RFC 7644 section 3.4.2.2), most of them valid, with odd parts. */
export const grammarFilter: fc.Arbitrary<string> = fc.letrec<{ filter: string }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(filterPath, space, operator, space, valueText)
      .map(([name, s1, op, s2, value]) => (op === 'pr' ? `${name}${s1}pr` : `${name}${s1}${op}${s2}${value}`)),
    filterPath.map((name) => `${name} pr`),
    fc
      .tuple(fc.constantFrom(...COMPLEX), tie('filter'), fc.option(fc.constantFrom(...SUB_PATHS)), valueText)
      .map(([name, inner, sub, value]) =>
        sub === null ? `${name}[${inner}]` : `${name}[${inner}].${sub} eq ${value}`,
      ),
    fc
      .tuple(fc.constantFrom(...COMPLEX), fc.constantFrom(...SUB_PATHS), operator, valueText)
      .map(([name, sub, op, value]) => `${name}[${sub} ${op} ${value}]`),
    tie('filter').map((inner) => `not (${inner})`),
    tie('filter').map((inner) => `not ${inner}`),
    tie('filter').map((inner) => `(${inner})`),
    fc
      .tuple(tie('filter'), fc.constantFrom('and', 'or', 'AND', 'Or', 'nand'), tie('filter'))
      .map(([left, op, right]) => `${left} ${op} ${right}`),
  ),
})).filter;

// ---------------------------------------------------------------------------------------------
// PATCH operations

export const PATCH_PATHS: readonly string[] = [
  'userName',
  'USERNAME',
  'active',
  'password',
  'id',
  'meta',
  'meta.version',
  'name',
  'name.givenName',
  'name.nope',
  'displayName',
  'emails',
  'emails.value',
  'emails.display',
  'emails[type eq "work"]',
  'emails[type eq "work"].value',
  'emails[type eq "work" and value co "@"].value',
  'emails[value pr]',
  'emails[primary eq true]',
  'emails[value gt 5]',
  'emails[value lt true]',
  'emails[not (type eq "work")]',
  'emails[type eq "work"].value.extra',
  'phoneNumbers',
  'phoneNumbers[type eq "mobile"].value',
  'phoneNumbers[type eq "mobile"]',
  'addresses[type eq "home"].locality',
  'roles',
  'roles.value',
  'roles[value eq "admin"]',
  'groups',
  'name[givenName eq "x"]',
  CORE,
  `${CORE}:userName`,
  `${CORE}:emails[type eq "work"].value`,
  ENTERPRISE,
  `${ENTERPRISE}:employeeNumber`,
  `${ENTERPRISE}:manager.value`,
  `${ENTERPRISE}:manager.displayName`,
  `${ENTERPRISE}:phoneVerified`,
  `${ENTERPRISE}:verifyMobile`,
  WSO2,
  `${WSO2}:mobileNumbers`,
  `${WSO2}:mobileNumbers[value eq "0779999999"]`,
  `${WSO2}:mobileNumbers[value sw "077"]`,
  `${WSO2}:verifiedMobileNumbers`,
  'urn:unknown:schema:userName',
  '__proto__',
  '__proto__.polluted',
  'constructor',
  'constructor.prototype',
  'name.__proto__',
  'emails[__proto__ eq "x"]',
  'emails[type eq "__proto__"].value',
  `${ENTERPRISE}:__proto__`,
  'emails[[type eq "work"]]',
  'emails[type eq "work"',
  'emails]type eq "work"[',
  'emails[]',
  '',
  ' ',
  '.',
  'a.b.c',
];

/** Runs of one character: the shape that makes backtracking tokenizers explode. */
const repeated = fc
  .tuple(fc.constantFrom('\n', ' ', '"', '\\', '(', 'a', '\\n', '\r\n'), fc.integer({ min: 0, max: 200 }))
  .map(([text, count]) => text.repeat(count));

export const pathText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...PATCH_PATHS), weight: 4 },
  hostileString,
  fc
    .tuple(
      fc.constantFrom('emails', 'phoneNumbers', `${WSO2}:mobileNumbers`),
      fc.constantFrom(...PATCH_PATHS),
      repeated,
    )
    .map(([attribute, inner, filler]) => `${attribute}[value eq "${filler}${inner}]`),
  fc.tuple(fc.constantFrom(...PATCH_PATHS), fc.nat(), hostileString).map(([path, at, text]) => {
    const position = at % (path.length + 1);
    return path.slice(0, position) + text + path.slice(position);
  }),
);

export const valueFor: fc.Arbitrary<unknown> = fc.oneof(
  hostileJson,
  hostileString,
  fc.constantFrom(
    'alice@example.com',
    true,
    'true',
    'False',
    42,
    [{ type: 'work', value: 'x@y.z', primary: true }],
    [{ type: 'mobile', value: '+94770000000' }],
    { givenName: 'G', familyName: null },
    { value: 'v' },
    ['0771', '0772'],
    '0771,0772, ,0771',
    { [ENTERPRISE]: { employeeNumber: '9' }, userName: 'renamed' },
    { [WSO2]: { mobileNumbers: '077' } },
    { emails: [{ value: 'a' }, { value: 'b', primary: true }, { value: 'c', primary: true }] },
    { roles: [{ value: 'admin' }, { value: 'internal/everyone' }] },
  ),
  fc.integer({ min: 1, max: 300 }).map(nestedValue),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true},"userName":"x"}')),
  fc.constant(JSON.parse('{"name":{"__proto__":{"polluted":true}}}')),
  fc.constant(JSON.parse('{"constructor":{"prototype":{"polluted":true}}}')),
);

export const operation: fc.Arbitrary<unknown> = fc.oneof(
  {
    arbitrary: fc.record(
      {
        op: fc.oneof(fc.constantFrom('add', 'replace', 'remove', 'Add', 'REPLACE', 'move', ''), hostileString),
        path: pathText,
        value: valueFor,
      },
      { requiredKeys: ['op'] },
    ),
    weight: 6,
  },
  hostileJson,
);

export const operations = fc.array(operation, { minLength: 1, maxLength: 4 });

// ---------------------------------------------------------------------------------------------
// Plausible bodies: the right shape and types, hostile text inside. These reach the services and the
// database, where arbitrary JSON stops at validation; a mutated leaf then probes every field's checks.

/** Hostile text the database can hold (no NUL, no lone surrogate), and now and then text it cannot. */
const text = fc.oneof(
  {
    arbitrary: hostileString.map((value) => value.replaceAll('\u0000', '\ufffd').replace(/\p{Cs}/gu, '\ufffd')),
    weight: 6,
  },
  hostileString,
);

const phoneValue = fc.oneof(
  fc.constantFrom('+94771234567', '+94779876543', '0771234567', '+447700900123', '+1 (415) 555-0123', '123'),
  lookalikePhone,
  hostileString,
);

const emailItem = fc.record(
  {
    value: fc.oneof(fc.constantFrom('a@example.com', 'B@Example.com'), text),
    type: fc.oneof({ arbitrary: fc.constantFrom('work', 'home', 'other', 'WORK'), weight: 6 }, text),
    primary: fc.boolean(),
  },
  { requiredKeys: ['value'] },
);

const phoneItem = fc.record(
  {
    value: phoneValue,
    type: fc.oneof({ arbitrary: fc.constantFrom('mobile', 'work', 'home', 'fax'), weight: 6 }, text),
  },
  { requiredKeys: ['value'] },
);

const nameValue = fc.record(
  { givenName: text, familyName: text, formatted: text, honorificPrefix: text },
  { requiredKeys: [] },
);

/** A User body an administrator could send; only the text is hostile. */
export const plausibleUser: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    schemas: fc.constantFrom([CORE], [CORE, ENTERPRISE], [CORE, ENTERPRISE, WSO2]),
    userName: fc.oneof(
      fc.uuid().map((id) => `fuzz-${id}`),
      text,
    ),
    displayName: text,
    title: text,
    externalId: text,
    active: fc.boolean(),
    name: nameValue,
    emails: fc.array(emailItem, { maxLength: 3 }),
    phoneNumbers: fc.array(phoneItem, { maxLength: 3 }),
    addresses: fc.array(fc.record({ type: fc.constantFrom('work', 'home'), locality: text }), {
      maxLength: 2,
    }),
    [ENTERPRISE]: fc.record({ employeeNumber: text, department: text }, { requiredKeys: [] }),
  },
  { requiredKeys: ['userName'] },
);

const PLAUSIBLE_OPERATIONS: readonly fc.Arbitrary<Record<string, unknown>>[] = [
  fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('displayName'), value: text }),
  fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('name.givenName'), value: text }),
  fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('name'), value: nameValue }),
  fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('emails'), value: fc.array(emailItem) }),
  fc.record({ op: fc.constant('replace'), path: fc.constant('emails[type eq "work"].value'), value: text }),
  fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('phoneNumbers'), value: fc.array(phoneItem) }),
  fc.record({
    op: fc.constant('replace'),
    path: fc.constant('phoneNumbers[type eq "mobile"].value'),
    value: phoneValue,
  }),
  fc.record({ op: fc.constant('replace'), value: fc.record({ phoneNumbers: fc.array(phoneItem, { maxLength: 1 }) }) }),
  fc.record({
    op: fc.constantFrom('add', 'replace'),
    path: fc.constant(`${ENTERPRISE}:employeeNumber`),
    value: text,
  }),
  fc.record({
    op: fc.constantFrom('add', 'replace'),
    value: fc.record({
      title: text,
      nickName: text,
      [ENTERPRISE]: fc.record({ division: text }),
    }),
  }),
  fc.record({
    op: fc.constant('remove'),
    path: fc.constantFrom(
      'title',
      'emails[type eq "work"]',
      'name.givenName',
      'addresses',
      `${ENTERPRISE}:employeeNumber`,
    ),
  }),
  fc.record({
    op: fc.constant('remove'),
    path: fc.oneof(text, grammarFilter).map((filter) => `emails[${filter}]`),
  }),
];

export const plausibleOperation: fc.Arbitrary<Record<string, unknown>> = fc.oneof(...PLAUSIBLE_OPERATIONS);

export const plausiblePatch: fc.Arbitrary<Record<string, unknown>> = fc.record({
  schemas: fc.constant(['urn:ietf:params:scim:api:messages:2.0:PatchOp']),
  Operations: fc.array(plausibleOperation, { minLength: 1, maxLength: 3 }),
});

/** A plausible body with one leaf swapped for arbitrary JSON: each field's validation in turn. */
export function withHostileLeaf<T>(body: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc
    .tuple(body, fc.nat(), hostileJson)
    .map(([value, leaf, replacement]) => replaceLeaf(value, leaf, replacement));
}
