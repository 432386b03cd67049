import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors/app-error.js';
import { applyPatch, normalizeUserInput, type PatchOperation, type ScimObject } from '../../src/scim/patch.js';
import { parsePath } from '../../src/scim/patch-path.js';
import { operations, pathText, valueFor } from './arbitraries.js';
import {
  deepFreeze,
  ENTERPRISE,
  expectAppError,
  hostileJson,
  NASTY_STRINGS,
  prototypeFingerprint,
  runs,
  WSO2,
} from './fuzz-support.js';

const PATCH_ERRORS: readonly ErrorCode[] = [
  'INVALID_PATH',
  'NO_TARGET',
  'INVALID_VALUE',
  'MUTABILITY',
  'INVALID_SYNTAX',
  'INVALID_FILTER',
];

/** A user in canonical form, as toCanonicalResource produces it. */
const RESOURCES: readonly ScimObject[] = [
  { userName: 'bob', active: true },
  {
    userName: 'alice',
    active: true,
    name: { givenName: 'Alice', familyName: "O'Hara" },
    displayName: 'Alice',
    emails: [
      { value: 'alice@example.com', primary: true },
      { type: 'work', value: 'alice@work.example' },
    ],
    phoneNumbers: [
      { type: 'mobile', value: '+94771234567' },
      { type: 'home', value: '0112345678' },
    ],
    addresses: [{ type: 'home', locality: 'Colombo', country: 'LK' }],
    roles: [{ value: 'admin' }],
    [ENTERPRISE]: { employeeNumber: '42', manager: { value: 'm-1' }, phoneVerified: true },
    [WSO2]: { mobileNumbers: ['+94771234567', '0779999999'], verifiedMobileNumbers: ['+94771234567'] },
  },
];

describe('PATCH engine under fuzzing', () => {
  it('applyPatch: returns or throws a PATCH AppError; never mutates its input or Object.prototype', () => {
    const fingerprint = prototypeFingerprint();
    fc.assert(
      fc.property(fc.constantFrom(...RESOURCES), operations, (resource, ops) => {
        const frozenResource = deepFreeze(structuredClone(resource));
        const frozenOps = deepFreeze(ops);
        const before = JSON.stringify([frozenResource, frozenOps]);
        try {
          const result = applyPatch(frozenResource, frozenOps as PatchOperation[]);
          expect(typeof result).toBe('object');
          // A result that cannot be serialised could not be stored either.
          JSON.stringify(result);
        } catch (error) {
          expectAppError(error, PATCH_ERRORS);
        }
        expect(JSON.stringify([frozenResource, frozenOps])).toBe(before);
        expect(prototypeFingerprint()).toBe(fingerprint);
      }),
      { numRuns: runs(1500) },
    );
  });

  it('parsePath: arbitrary path strings parse or throw INVALID_PATH / INVALID_FILTER, quickly', () => {
    fc.assert(
      fc.property(pathText, (path) => {
        const started = performance.now();
        try {
          parsePath(path);
        } catch (error) {
          expectAppError(error, ['INVALID_PATH', 'INVALID_FILTER']);
        }
        expect(performance.now() - started, JSON.stringify(path)).toBeLessThan(500);
      }),
      {
        numRuns: runs(1000),
        // Found by this property: scim2-parse-filter's string pattern backtracked exponentially on line feeds.
        examples: [[`emails[value eq "${'\n'.repeat(40)}]`], [`emails[value eq "${'\n'.repeat(1000)}"]`]],
      },
    );
  });

  it('normalizeUserInput: arbitrary bodies return or throw INVALID_VALUE / MUTABILITY, without side effects', () => {
    const fingerprint = prototypeFingerprint();
    const body = fc.oneof(
      hostileJson,
      fc.dictionary(fc.constantFrom('userName', 'name', 'emails', 'phoneNumbers', ENTERPRISE, WSO2, 'roles'), valueFor),
    );
    fc.assert(
      fc.property(body, (input) => {
        const frozen = deepFreeze(input);
        const before = JSON.stringify(frozen);
        try {
          JSON.stringify(normalizeUserInput(frozen as Record<string, unknown>));
        } catch (error) {
          expectAppError(error, ['INVALID_VALUE', 'MUTABILITY']);
        }
        expect(JSON.stringify(frozen)).toBe(before);
        expect(prototypeFingerprint()).toBe(fingerprint);
      }),
      { numRuns: runs(1500) },
    );
  });

  it('prototype keys anywhere in a PATCH value are refused, whatever the path', () => {
    const fingerprint = prototypeFingerprint();
    for (const key of ['__proto__', 'constructor', 'prototype', '__PROTO__']) {
      for (const path of [undefined, 'name', 'emails', `${ENTERPRISE}:manager`, WSO2]) {
        const value = JSON.parse(`{"a":[{"${key}":{"polluted":true}}],"${key}":{"polluted":true}}`);
        const op = path === undefined ? { op: 'add', value } : { op: 'add', path, value };
        expect(() => applyPatch(RESOURCES[0] ?? {}, [op])).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }));
      }
    }
    expect(prototypeFingerprint()).toBe(fingerprint);
  });

  it('injection strings are stored as plain values', () => {
    for (const text of NASTY_STRINGS) {
      try {
        const result = applyPatch(RESOURCES[0] ?? {}, [{ op: 'replace', path: 'displayName', value: text }]);
        expect(result.displayName).toBe(text);
      } catch (error) {
        expectAppError(error, ['INVALID_VALUE']);
      }
    }
  });
});
