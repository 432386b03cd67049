import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { AppError, type ErrorCode } from '../../src/errors/app-error.js';
import type { TestApp } from '../support/test-app.js';

export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const WSO2 = 'urn:scim:wso2:schema';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

// ---------------------------------------------------------------------------------------------
// Hostile values

/** Strings that broke (or were meant to break) parsers, SQL, headers and templates somewhere. */
export const NASTY_STRINGS: readonly string[] = [
  "' OR 1=1 --",
  '"; drop table users; --',
  "'); DROP TABLE users; --",
  "admin'--",
  '1; select pg_sleep(10)',
  '%',
  '_',
  '\\',
  '\\\\',
  '"',
  '\\"',
  '\u0000',
  'a\u0000b',
  '\r\nX-Injected: 1',
  'value\r\n\r\nbody',
  '\n',
  '\t',
  '\u007f',
  '\u2028\u2029',
  '\ufeff',
  '\ud800',
  '\udfff',
  '😀',
  'e\u0301',
  '{{body}}',
  '{{mobile}}',
  '}}',
  '{{',
  '__proto__',
  'constructor',
  'prototype',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection attempt, on purpose.
  '${7*7}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'null',
  'true',
  '',
  ' ',
  'аdmin',
  'ΑDMIN',
  '０７７１２３４５６７',
  '٠٧٧١٢٣٤٥٦٧',
  '۰۷۷۱۲۳۴۵۶۷',
  '०७७१२३४५६७',
  '+９４７７１２３４５６７',
  '١e٣',
  'x'.repeat(300),
];

/** Any UTF-16 code unit, so lone surrogates too (JSON.stringify escapes them; UTF-8 cannot carry them). */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...NASTY_STRINGS),
  fc
    .array(fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 5 })
    .map((parts) => parts.join('')),
  fc.string({ unit: codeUnit, maxLength: 20 }),
);

/** Attribute names the server knows, in odd spellings, next to names that must never become properties. */
export const ATTRIBUTE_KEYS: readonly string[] = [
  'schemas',
  'userName',
  'USERNAME',
  'password',
  'active',
  'id',
  'meta',
  'name',
  'displayName',
  'externalId',
  'emails',
  'phoneNumbers',
  'addresses',
  'roles',
  'groups',
  'value',
  'type',
  'primary',
  'givenName',
  'display',
  ENTERPRISE,
  WSO2,
  CORE,
  'employeeNumber',
  'manager',
  'mobileNumbers',
  'verifiedMobileNumbers',
  'verifyMobile',
  'pendingMobileNumber',
  'phoneVerified',
  '__proto__',
  'constructor',
  'prototype',
  'Operations',
  'op',
  'path',
  'filter',
  'startIndex',
  'count',
  'attributes',
  'code',
  'properties',
  'key',
  'user',
  'username',
  'realm',
];

const hostileKey = fc.oneof(fc.constantFrom(...ATTRIBUTE_KEYS), hostileString);

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, 2 ** 63, 1.5),
);

/** JSON-compatible values with hostile strings and keys, including own `__proto__` properties. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** `[[[...]]]` / `{"a":{"a":...}}` as text: deeper than anything the server should recurse into. */
export function nestedArrays(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

export function nestedObjects(depth: number, key = 'a'): string {
  return `${`{"${key}":`.repeat(depth)}1${'}'.repeat(depth)}`;
}

export function nestedValue(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? [value] : { value };
  return value;
}

/** Unicode digits a lax parser might read as 0-9 (full-width, Arabic-Indic, Persian, Devanagari, Bengali). */
export const LOOKALIKE_DIGIT_SETS: readonly string[] = [
  '０１２３４５６７８９',
  '٠١٢٣٤٥٦٧٨٩',
  '۰۱۲۳۴۵۶۷۸۹',
  '०१२३४५६७८९',
  '০১২৩৪৫৬৭৮৯',
  '𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗',
];

/** A phone number with at least one digit swapped for a lookalike. */
export const lookalikePhone: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('+94771234567', '0771234567', '+447700900123', '+14155550123'),
    fc.constantFrom(...LOOKALIKE_DIGIT_SETS),
    fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
    fc.nat(15),
  )
  .map(([plain, digits, swaps, forced]) => {
    const characters = [...plain];
    const digitPositions = characters.flatMap((character, index) => (/[0-9]/.test(character) ? [index] : []));
    const forcedPosition = digitPositions[forced % digitPositions.length] ?? 0;
    return characters
      .map((character, index) => {
        const swap = index === forcedPosition || swaps[index] === true;
        const digit = Number(character);
        const lookalike = [...digits][digit];
        return swap && /[0-9]/.test(character) && lookalike !== undefined ? lookalike : character;
      })
      .join('');
  });

/** No lone surrogate: the text has a UTF-8 form (String.prototype.isWellFormed is ES2024). */
export function isWellFormed(text: string): boolean {
  return !/\p{Cs}/u.test(text);
}

/** Replaces the leaf at `choice` (modulo the number of leaves) of a JSON value, on a copy. */
export function replaceLeaf(value: unknown, choice: number, replacement: unknown): unknown {
  const leaves: string[][] = [];
  const walk = (node: unknown, path: string[]) => {
    if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) walk(child, [...path, key]);
    } else {
      leaves.push(path);
    }
  };
  walk(value, []);
  const target = leaves[choice % Math.max(1, leaves.length)];
  if (target === undefined || target.length === 0) return replacement;
  const copy: unknown = structuredClone(value);
  let holder = copy as Record<string, unknown>;
  for (const key of target.slice(0, -1)) holder = holder[key] as Record<string, unknown>;
  holder[target[target.length - 1] ?? ''] = replacement;
  return copy;
}

/** Percent-encodes the UTF-8 bytes of any text (encodeURIComponent throws on lone surrogates). */
export function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
}

export function hasNonAsciiDigit(text: string): boolean {
  return /\p{Nd}/u.test(text.replace(/[0-9]/g, ''));
}

// ---------------------------------------------------------------------------------------------
// Checks

export function expectAppError(error: unknown, codes: readonly ErrorCode[]): void {
  if (!(error instanceof AppError)) {
    throw new Error(`expected an AppError, got ${error instanceof Error ? error.stack : String(error)}`);
  }
  expect(codes).toContain(error.code);
}

/** Everything the prototype chain of plain objects and arrays exposes, to detect pollution. */
export function prototypeFingerprint(): string {
  const probe: Record<string, unknown> = {};
  return JSON.stringify([
    Object.getOwnPropertyNames(Object.prototype).sort(),
    Object.getOwnPropertyNames(Array.prototype).sort(),
    Object.getOwnPropertyNames(Function.prototype).sort(),
    probe.polluted,
    probe.value,
    probe.userName,
  ]);
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) {
      deepFreeze((value as Record<string | symbol, unknown>)[key]);
    }
  }
  return value;
}

function describeResponse(response: LightMyRequestResponse): string {
  return `${response.statusCode} ${response.body.slice(0, 500)}`;
}

export function parseBody(response: LightMyRequestResponse): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    throw new Error(`response body is not JSON: ${describeResponse(response)}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Error(`response body is not an object: ${describeResponse(response)}`);
  }
  return body as Record<string, unknown>;
}

export function expectNoServerError(response: LightMyRequestResponse): void {
  if (response.statusCode >= 500) throw new Error(`server error: ${describeResponse(response)}`);
}

/** RFC 7644 section 3.12: `schemas` names the Error message, `status` is the HTTP status as a string. */
export function expectScimError(response: LightMyRequestResponse): Record<string, unknown> {
  expectNoServerError(response);
  expect(response.statusCode, describeResponse(response)).toBeGreaterThanOrEqual(400);
  expect(String(response.headers['content-type'])).toMatch(/^application\/scim\+json/);
  const body = parseBody(response);
  expect(body.schemas, describeResponse(response)).toEqual(expect.arrayContaining([SCIM_ERROR]));
  expect(body.status, describeResponse(response)).toBe(String(response.statusCode));
  expect(typeof body.detail).toBe('string');
  return body;
}

/** WSO2's identity API envelope. */
export function expectIdentityError(response: LightMyRequestResponse): Record<string, unknown> {
  expectNoServerError(response);
  expect(response.statusCode, describeResponse(response)).toBeGreaterThanOrEqual(400);
  expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
  const body = parseBody(response);
  // WSO2's privileged resend-code answers "nothing to resend" with only {message, traceId}.
  const keys = Object.keys(body).sort();
  const expected = keys.length === 2 ? ['message', 'traceId'] : ['code', 'description', 'message', 'traceId'];
  expect(keys, describeResponse(response)).toEqual(expected);
  for (const key of expected) expect(typeof body[key]).toBe('string');
  return body;
}

const OAUTH_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'slow_down',
];

/** RFC 6749 section 5.2. */
export function expectOAuthError(response: LightMyRequestResponse): Record<string, unknown> {
  expectNoServerError(response);
  expect(response.statusCode, describeResponse(response)).toBeGreaterThanOrEqual(400);
  const body = parseBody(response);
  expect(OAUTH_ERROR_CODES, describeResponse(response)).toContain(body.error);
  if (body.error_description !== undefined) expect(typeof body.error_description).toBe('string');
  expect(response.headers['cache-control']).toBe('no-store');
  return body;
}

export type ErrorFamily = 'scim' | 'identity' | 'oauth';

export function familyOf(url: string): ErrorFamily {
  if (url.startsWith('/scim2')) return 'scim';
  return url.startsWith('/oauth2') ? 'oauth' : 'identity';
}

export function expectFamilyError(response: LightMyRequestResponse, family: ErrorFamily): Record<string, unknown> {
  switch (family) {
    case 'scim':
      return expectScimError(response);
    case 'identity':
      return expectIdentityError(response);
    case 'oauth':
      return expectOAuthError(response);
  }
}

// ---------------------------------------------------------------------------------------------
// State

export interface RowCounts {
  users: number;
  userClaims: number;
  verificationCodes: number;
  smsOutbox: number;
  smsSenders: number;
}

export async function rowCounts(t: TestApp): Promise<RowCounts> {
  const count = async (table: 'users' | 'user_claims' | 'verification_codes' | 'sms_outbox' | 'sms_senders') => {
    const row = await t.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  };
  return {
    users: await count('users'),
    userClaims: await count('user_claims'),
    verificationCodes: await count('verification_codes'),
    smsOutbox: await count('sms_outbox'),
    smsSenders: await count('sms_senders'),
  };
}

/** The user as an administrator sees it, whole: a rejected request must leave every byte of it alone. */
export async function adminView(t: TestApp, id: string): Promise<string> {
  const response = await t.app.inject({
    method: 'GET',
    url: `/scim2/Users/${id}`,
    headers: { authorization: t.adminAuth },
  });
  if (response.statusCode !== 200) throw new Error(`GET user ${id}: ${describeResponse(response)}`);
  return response.body;
}

/**
 * The codes as no row count shows them: whose, for which number and scenario, until when. Failed attempts are
 * left out: counting a wrong guess is the one write a rejected validation makes, by design.
 */
export async function codeState(t: TestApp): Promise<string> {
  const rows = await t.db
    .selectFrom('verification_codes')
    .select(['id', 'user_id', 'number', 'scenario', 'expires_at'])
    .orderBy('id')
    .execute();
  return JSON.stringify(rows);
}

export interface Snapshot {
  counts: RowCounts;
  users: string[];
  codes: string;
}

export async function snapshot(t: TestApp, userIds: readonly string[]): Promise<Snapshot> {
  const users: string[] = [];
  for (const id of userIds) users.push(await adminView(t, id));
  return { counts: await rowCounts(t), users, codes: await codeState(t) };
}

/** Fails with the request that broke it: fast-check prints the counterexample and the seed. */
export function expectUnchanged(before: Snapshot, after: Snapshot, response: LightMyRequestResponse): void {
  const context = `after a rejected request (${describeResponse(response)})`;
  expect(after.counts, context).toEqual(before.counts);
  expect(after.users, context).toEqual(before.users);
  expect(after.codes, context).toBe(before.codes);
}

/** numRuns, scaled by FUZZ_RUNS_FACTOR for a longer local run (the default keeps the suite within its time budget). */
export function runs(base: number): number {
  const factor = Number(process.env.FUZZ_RUNS_FACTOR ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(factor) && factor > 0 ? factor : 1)));
}
