import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../src/errors/app-error.js';
import { applyPatch, normalizeUserInput, type PatchOperation, type ScimObject } from '../../src/scim/patch.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const WSO2 = 'urn:scim:wso2:schema';

function baseUser(): ScimObject {
  return {
    id: '6d433ee7-7cd4-47a3-810b-bc09023bc2ce',
    userName: 'bob123',
    name: { givenName: 'Bob', familyName: 'Smith' },
    emails: [
      { value: 'bob@work.example', type: 'work', primary: true },
      { value: 'bob@home.example', type: 'home' },
    ],
    phoneNumbers: [
      { type: 'mobile', value: '0111111111' },
      { type: 'work', value: '0222222222' },
    ],
    roles: [{ type: 'default', value: 'Internal/everyone' }],
    meta: { resourceType: 'User', created: '2020-10-12T13:35:24.579Z', lastModified: '2020-10-12T13:35:24.579Z' },
    [ENTERPRISE]: { department: 'Engineering', manager: { value: 'm-1' }, pendingMobileNumber: '0999999999' },
    [WSO2]: { mobileNumbers: ['0111111111'], verifiedMobileNumbers: ['0111111111'] },
  };
}

function patch(...operations: PatchOperation[]): ScimObject {
  return applyPatch(baseUser(), operations);
}

function errorOf(action: () => unknown): AppError {
  try {
    action();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

function expectCode(action: () => unknown, code: ErrorCode): void {
  expect(errorOf(action).code).toBe(code);
}

function extension(resource: ScimObject, urn: string): ScimObject {
  const value = resource[urn];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`no ${urn}`);
  return value as ScimObject;
}

/** Operations of a PatchOp body, parsed from JSON exactly as a client sends it. */
function operationsOf(body: string): PatchOperation[] {
  const parsed = JSON.parse(body) as { Operations: PatchOperation[] };
  return parsed.Operations;
}

describe('seed PATCH bodies (mobile number verification on update)', () => {
  it('replaces the mobile number with the pathless phoneNumbers body', () => {
    const operations = operationsOf(`{
      "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations":[{
      "op":"replace",
      "value":
      { "phoneNumbers":[{"type": "mobile", "value":"0123456789"}]}
      }]
      }`);
    const result = applyPatch(baseUser(), operations);
    expect(result.phoneNumbers).toEqual([{ type: 'mobile', value: '0123456789' }]);
  });

  it('replaces the verified mobile numbers with the comma-separated body', () => {
    const operations = operationsOf(`{
      "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations":[{
      "op":"replace",
      "value":{"urn:scim:wso2:schema": {"verifiedMobileNumbers": "0111111111,0123456789"}}
      }]
      }`);
    const result = applyPatch(baseUser(), operations);
    expect(extension(result, WSO2)).toEqual({
      mobileNumbers: ['0111111111'],
      verifiedMobileNumbers: ['0111111111', '0123456789'],
    });
  });

  it('changes only the mobile number when the phoneNumbers body is sent with add', () => {
    const result = patch({ op: 'add', value: { phoneNumbers: [{ type: 'mobile', value: '0123456789' }] } });
    expect(result.phoneNumbers).toEqual([
      { type: 'mobile', value: '0123456789' },
      { type: 'work', value: '0222222222' },
    ]);
  });

  it('appends to the verified list when the comma-separated body is sent with add', () => {
    const result = patch({ op: 'add', value: { [WSO2]: { verifiedMobileNumbers: '0111111111, 0123456789' } } });
    expect(extension(result, WSO2).verifiedMobileNumbers).toEqual(['0111111111', '0123456789']);
  });
});

describe('operation names', () => {
  it.each(['add', 'ADD', 'Add'])('accepts op %s', (op) => {
    expect(patch({ op, path: 'nickName', value: 'bobby' }).nickName).toBe('bobby');
  });

  it('accepts Replace and REMOVE', () => {
    const result = patch({ op: 'Replace', path: 'title', value: 'CTO' }, { op: 'REMOVE', path: 'name.familyName' });
    expect(result.title).toBe('CTO');
    expect(result.name).toEqual({ givenName: 'Bob' });
  });

  it.each(['copy', 'move', 'test', ''])('rejects op %j with INVALID_SYNTAX', (op) => {
    expectCode(() => patch({ op, path: 'nickName', value: 'x' }), 'INVALID_SYNTAX');
  });

  it('rejects a missing op with INVALID_SYNTAX', () => {
    expectCode(() => applyPatch(baseUser(), JSON.parse('[{"path":"nickName","value":"x"}]')), 'INVALID_SYNTAX');
  });

  it('rejects remove without a path with NO_TARGET', () => {
    const error = errorOf(() => patch({ op: 'remove' }));
    expect(error.code).toBe('NO_TARGET');
    expect(error.scimType).toBe('noTarget');
  });

  it.each(['add', 'replace'])('rejects %s without a value with INVALID_VALUE', (op) => {
    expectCode(() => patch({ op }), 'INVALID_VALUE');
    expectCode(() => patch({ op, path: 'nickName' }), 'INVALID_VALUE');
  });
});

describe('operations without a path', () => {
  it('requires an object value', () => {
    expectCode(() => patch({ op: 'add', value: 'bob' }), 'INVALID_VALUE');
    expectCode(() => patch({ op: 'replace', value: [{ nickName: 'x' }] }), 'INVALID_VALUE');
  });

  it('ignores schemas and resolves attribute names case-insensitively', () => {
    const result = patch({
      op: 'replace',
      value: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        USERNAME: 'robert',
        Name: { GIVENNAME: 'Rob' },
      },
    });
    expect(result.userName).toBe('robert');
    expect(result.name).toEqual({ givenName: 'Rob', familyName: 'Smith' });
  });

  it('ignores unknown attribute and sub-attribute names, reporting them', () => {
    const ignored: string[] = [];
    const value = {
      shoeSize: 42,
      [WSO2]: { mobile: '1' },
      name: { nickname: 'x', givenName: 'Rob' },
      emails: [{ value: 'rob@example.com', label: 'x' }],
    };
    const result = applyPatch(baseUser(), [{ op: 'add', value }], ignored);
    expect(result.name).toEqual({ givenName: 'Rob', familyName: 'Smith' });
    expect(result.emails).toContainEqual({ value: 'rob@example.com' });
    expect(ignored.sort()).toEqual(['emails.label', 'name.nickname', 'shoeSize', `${WSO2}:mobile`]);
  });

  it('resolves extension URN keys case-insensitively', () => {
    const result = patch({
      op: 'replace',
      value: {
        'URN:SCIM:WSO2:SCHEMA': { MOBILENUMBERS: '0771,0772' },
        [ENTERPRISE.toLowerCase()]: { Department: 'Ops' },
      },
    });
    expect(extension(result, WSO2).mobileNumbers).toEqual(['0771', '0772']);
    expect(extension(result, ENTERPRISE).department).toBe('Ops');
  });

  it('accepts core attributes nested under the core schema URN', () => {
    const result = patch({ op: 'add', value: { 'urn:ietf:params:scim:schemas:core:2.0:User': { nickName: 'bobby' } } });
    expect(result.nickName).toBe('bobby');
  });

  it('merges sub-attributes of a complex attribute on add', () => {
    const result = patch({ op: 'add', value: { name: { middleName: 'J' } } });
    expect(result.name).toEqual({ givenName: 'Bob', familyName: 'Smith', middleName: 'J' });
  });

  it('keeps sub-attributes that replace does not name, and unassigns nulls', () => {
    const result = patch({ op: 'replace', value: { name: { givenName: 'Rob', familyName: null } } });
    expect(result.name).toEqual({ givenName: 'Rob' });
  });

  it('appends multi-valued values on add, skipping exact duplicates', () => {
    const result = patch({
      op: 'add',
      value: { roles: [{ type: 'default', value: 'Internal/everyone' }, { value: 'admin' }] },
    });
    expect(result.roles).toEqual([{ type: 'default', value: 'Internal/everyone' }, { value: 'admin' }]);
  });

  it('keeps display inside items (RFC 7643 8.7.1: readWrite)', () => {
    const result = patch({ op: 'add', value: { emails: [{ value: 'x@y.z', type: 'other', display: 'X' }] } });
    expect(result.emails).toContainEqual({ value: 'x@y.z', type: 'other', display: 'X' });
  });

  it('replaces the whole list of a multi-valued attribute on replace', () => {
    const result = patch({ op: 'replace', value: { emails: ['new@example.com'] } });
    expect(result.emails).toEqual([{ value: 'new@example.com' }]);
  });

  it('unassigns an attribute replaced with null and keeps the rest', () => {
    const result = patch({ op: 'replace', value: { name: null, nickName: 'bobby' } });
    expect(result.name).toBeUndefined();
    expect(result.nickName).toBe('bobby');
  });

  it('unassigns a list replaced with an empty value, and ignores it on add', () => {
    expect(patch({ op: 'replace', value: { phoneNumbers: [], [WSO2]: { mobileNumbers: '' } } })).not.toHaveProperty(
      'phoneNumbers',
    );
    expect(patch({ op: 'add', value: { phoneNumbers: [] } }).phoneNumbers).toHaveLength(2);
  });

  it('refuses to unassign the required userName', () => {
    expectCode(() => patch({ op: 'replace', value: { userName: null } }), 'INVALID_VALUE');
    expectCode(() => patch({ op: 'remove', path: 'userName' }), 'INVALID_VALUE');
  });

  it.each([{ id: 'other' }, { meta: { version: 'W/"1"' } }, { groups: [{ value: 'g1' }] }])(
    'rejects read-only attributes with MUTABILITY: %j',
    (value) => {
      expectCode(() => patch({ op: 'replace', value }), 'MUTABILITY');
    },
  );

  it('passes pendingMobileNumber and phoneVerified through: the user service decides who may write them', () => {
    const result = patch({ op: 'replace', value: { [WSO2]: { phoneVerified: true } } });
    expect(extension(result, WSO2).phoneVerified).toBe(true);
    expect(extension(patch({ op: 'remove', path: `${ENTERPRISE}:pendingMobileNumber` }), ENTERPRISE)).toEqual({
      department: 'Engineering',
      manager: { value: 'm-1' },
    });
  });

  it('accepts writeOnly password and verifyMobile as ordinary attributes', () => {
    const result = patch({ op: 'replace', value: { password: 's3cret!', [ENTERPRISE]: { verifyMobile: 'true' } } });
    expect(result.password).toBe('s3cret!');
    expect(extension(result, ENTERPRISE).verifyMobile).toBe(true);
  });
});

describe('paths', () => {
  it('adds and replaces simple attributes, case-insensitively', () => {
    expect(patch({ op: 'add', path: 'NICKNAME', value: 'bobby' }).nickName).toBe('bobby');
    expect(patch({ op: 'replace', path: 'userName', value: 'robert' }).userName).toBe('robert');
    expect(
      patch({ op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:userName', value: 'r' }).userName,
    ).toBe('r');
  });

  it('sets a sub-attribute, creating the complex attribute if needed', () => {
    expect(patch({ op: 'replace', path: 'NAME.GIVENNAME', value: 'Rob' }).name).toEqual({
      givenName: 'Rob',
      familyName: 'Smith',
    });
    const withoutName = applyPatch({ userName: 'x' }, [{ op: 'replace', path: 'name.familyName', value: 'S' }]);
    expect(withoutName.name).toEqual({ familyName: 'S' });
  });

  it('replaces a complex attribute via its path, keeping sub-attributes not given', () => {
    const result = patch({ op: 'replace', path: 'name', value: { familyName: 'Jones' } });
    expect(result.name).toEqual({ givenName: 'Bob', familyName: 'Jones' });
  });

  it('handles enterprise paths with sub-attributes', () => {
    const result = patch(
      { op: 'replace', path: `${ENTERPRISE}:manager.value`, value: 'm-2' },
      { op: 'add', path: 'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:DEPARTMENT', value: 'Ops' },
    );
    expect(extension(result, ENTERPRISE)).toEqual({
      department: 'Ops',
      manager: { value: 'm-2' },
      pendingMobileNumber: '0999999999',
    });
  });

  it('appends comma-separated values to a WSO2 list', () => {
    const result = patch({ op: 'add', path: `${WSO2}:mobileNumbers`, value: '0771,0772' });
    expect(extension(result, WSO2).mobileNumbers).toEqual(['0111111111', '0771', '0772']);
  });

  it('appends JSON array values to a WSO2 list and replaces the list on replace', () => {
    const added = patch({ op: 'add', path: `${WSO2}:verifiedMobileNumbers`, value: ['0111111111', ' 0773 ', ''] });
    expect(extension(added, WSO2).verifiedMobileNumbers).toEqual(['0111111111', '0773']);
    const replaced = patch({ op: 'replace', path: `${WSO2}:verifiedMobileNumbers`, value: '0774' });
    expect(extension(replaced, WSO2).verifiedMobileNumbers).toEqual(['0774']);
  });

  it('wraps a single value given for a multi-valued attribute', () => {
    const result = patch({ op: 'add', path: 'emails', value: { value: 'other@example.com', type: 'other' } });
    expect(result.emails).toHaveLength(3);
  });

  it('targets a whole extension by its URN', () => {
    const replaced = patch({ op: 'replace', path: WSO2, value: { verifiedMobileNumbers: '1,2' } });
    expect(extension(replaced, WSO2)).toEqual({ mobileNumbers: ['0111111111'], verifiedMobileNumbers: ['1', '2'] });
    expect(patch({ op: 'remove', path: ENTERPRISE })[ENTERPRISE]).toBeUndefined();
    expect(patch({ op: 'remove', path: WSO2 })[WSO2]).toBeUndefined();
  });

  it.each([
    ['shoeSize', 'add'],
    ['name.nickname', 'replace'],
    ['emails.label', 'replace'],
    ['urn:example:schema:nickName', 'add'],
    ['urn:example:schema:name.nickName', 'replace'],
    [`${ENTERPRISE}:shoeSize`, 'remove'],
    [`${ENTERPRISE}:manager.nickName`, 'replace'],
  ])('ignores the well-formed path %j naming what the server does not define (%s), reporting it', (path, op) => {
    const ignored: string[] = [];
    const operations = [{ op, path, ...(op === 'remove' ? {} : { value: 'x' }) }];
    expect(applyPatch(baseUser(), operations, ignored)).toEqual(baseUser());
    expect(ignored).toEqual([path]);
  });

  it.each([
    'name.givenName.first',
    'urn:ietf:params:scim:schemas:core:2.0:User',
    'urn:example:schema:nick name',
    'userName.value',
    'emails[type eq "work"',
    'emails[type eq "work"]value',
    'emails.value[type eq "work"]',
    'emails[label eq "work"]',
    `${WSO2}:mobileNumbers[type eq "x"]`,
    `${WSO2}:mobileNumbers[value eq "x"].value`,
    'name[givenName eq "Bob"]',
    'userName[value eq "bob123"]',
    'nick name',
    '',
  ])('rejects path %j with INVALID_PATH', (path) => {
    expectCode(() => patch({ op: 'replace', path, value: 'x' }), 'INVALID_PATH');
  });

  it.each(['emails[type eq]', 'emails[type xx "work"]', 'emails[(type eq "work"]', 'emails[]'])(
    'rejects a malformed value filter %j with INVALID_FILTER',
    (path) => {
      expectCode(() => patch({ op: 'remove', path }), 'INVALID_FILTER');
    },
  );

  it('rejects a non-string path with INVALID_PATH', () => {
    expectCode(() => applyPatch(baseUser(), JSON.parse('[{"op":"remove","path":5}]')), 'INVALID_PATH');
  });
});

describe('value filters', () => {
  it('replaces a sub-attribute of the matching item', () => {
    const result = patch({ op: 'replace', path: 'emails[type eq "work"].value', value: 'bob@new.example' });
    expect(result.emails).toEqual([
      { value: 'bob@new.example', type: 'work', primary: true },
      { value: 'bob@home.example', type: 'home' },
    ]);
  });

  it('compares case-insensitively for caseExact=false attributes, names too', () => {
    const result = patch({ op: 'remove', path: 'EMAILS[TYPE eq "WORK" and VALUE co "@WORK.example"]' });
    expect(result.emails).toEqual([{ value: 'bob@home.example', type: 'home' }]);
  });

  it('matches caseExact=false values whatever their case', () => {
    const user = { ...baseUser(), roles: [{ value: 'Admin' }] };
    expect(applyPatch(user, [{ op: 'remove', path: 'roles[value EQ "admin"]' }]).roles).toBeUndefined();
  });

  it.each([
    ['primary eq true', 'bob@home.example'],
    ['not (type eq "work")', 'bob@work.example'],
    ['type eq "home" or value sw "nobody"', 'bob@work.example'],
    ['value ew ".example" and not (primary pr)', 'bob@work.example'],
  ])('evaluates %s', (filter, remaining) => {
    const result = patch({ op: 'remove', path: `emails[${filter}]` });
    expect(result.emails).toEqual([expect.objectContaining({ value: remaining })]);
  });

  it('replaces matching items with the given value', () => {
    const result = patch({
      op: 'replace',
      path: 'phoneNumbers[type eq "work"]',
      value: { type: 'work', value: '0333' },
    });
    expect(result.phoneNumbers).toEqual([
      { type: 'mobile', value: '0111111111' },
      { type: 'work', value: '0333' },
    ]);
  });

  it('treats add to attr[filter].sub like replace on matching items', () => {
    const result = patch({ op: 'add', path: 'phoneNumbers[type eq "mobile"].value', value: '0123456789' });
    expect(result.phoneNumbers).toContainEqual({ type: 'mobile', value: '0123456789' });
  });

  it('rejects add to attr[filter] with INVALID_PATH', () => {
    expectCode(() => patch({ op: 'add', path: 'emails[type eq "work"]', value: { value: 'x' } }), 'INVALID_PATH');
  });

  it('answers NO_TARGET when a filter matches nothing', () => {
    expectCode(() => patch({ op: 'remove', path: 'emails[value eq "nobody@example.com"]' }), 'NO_TARGET');
    expectCode(() => patch({ op: 'replace', path: 'emails[type eq "other"]', value: { value: 'x' } }), 'NO_TARGET');
    expectCode(() => patch({ op: 'replace', path: 'phoneNumbers[type eq "fax"].value', value: '1' }), 'NO_TARGET');
    expectCode(() => patch({ op: 'add', path: 'phoneNumbers[type eq "fax"].value', value: '1' }), 'NO_TARGET');
    expectCode(() => patch({ op: 'remove', path: 'addresses[type eq "work"]' }), 'NO_TARGET');
  });

  it('removes one string of a WSO2 list by value, then the list, then the empty extension', () => {
    const first = patch({ op: 'remove', path: `${WSO2}:verifiedMobileNumbers[value eq "0111111111"]` });
    expect(extension(first, WSO2)).toEqual({ mobileNumbers: ['0111111111'] });
    const second = applyPatch(first, [
      { op: 'remove', path: 'urn:scim:wso2:schema:MOBILENUMBERS[value eq "0111111111"]' },
    ]);
    expect(second[WSO2]).toBeUndefined();
  });

  it('replaces one string of a WSO2 list', () => {
    const user = applyPatch(baseUser(), [{ op: 'add', path: `${WSO2}:mobileNumbers`, value: '0772' }]);
    const result = applyPatch(user, [
      { op: 'replace', path: `${WSO2}:mobileNumbers[value eq "0111111111"]`, value: '0779' },
    ]);
    expect(extension(result, WSO2).mobileNumbers).toEqual(['0779', '0772']);
  });

  it('removes a sub-attribute of matching items, and items left empty', () => {
    const result = patch({ op: 'remove', path: 'emails[type eq "work"].primary' });
    expect(result.emails).toContainEqual({ value: 'bob@work.example', type: 'work' });
    const user = { ...baseUser(), emails: [{ value: 'only@example.com' }] };
    expect(applyPatch(user, [{ op: 'remove', path: 'emails[value pr].value' }]).emails).toBeUndefined();
  });

  it('applies attr.sub without a filter to every item', () => {
    const result = patch({ op: 'remove', path: 'phoneNumbers.type' });
    expect(result.phoneNumbers).toEqual([{ value: '0111111111' }, { value: '0222222222' }]);
  });
});

describe('removal', () => {
  it('removing the last value removes the attribute', () => {
    const once = patch({ op: 'remove', path: 'emails[type eq "work"]' });
    const twice = applyPatch(once, [{ op: 'remove', path: 'emails[type eq "home"]' }]);
    expect(twice).not.toHaveProperty('emails');
  });

  it('removing a sub-attribute removes just it, and the last one the attribute', () => {
    const once = patch({ op: 'remove', path: 'name.givenName' });
    expect(once.name).toEqual({ familyName: 'Smith' });
    expect(applyPatch(once, [{ op: 'remove', path: 'name.familyName' }])).not.toHaveProperty('name');
  });

  it('removes a whole multi-valued attribute and ignores an unset one', () => {
    expect(patch({ op: 'remove', path: 'phoneNumbers' })).not.toHaveProperty('phoneNumbers');
    expect(patch({ op: 'remove', path: 'nickName' })).toEqual(baseUser());
  });
});

describe('any number of values per type, one primary', () => {
  it('appends a second item of an existing type on add with a path', () => {
    const result = patch({ op: 'add', path: 'phoneNumbers', value: [{ type: 'WORK', value: '0333' }] });
    expect(result.phoneNumbers).toEqual([
      { type: 'mobile', value: '0111111111' },
      { type: 'work', value: '0222222222' },
      { type: 'WORK', value: '0333' },
    ]);
  });

  it('an added mobile number replaces the primary mobile (WSO2 mobile claim)', () => {
    const result = patch({ op: 'add', path: 'phoneNumbers', value: [{ type: 'mobile', value: '0999' }] });
    expect(result.phoneNumbers).toEqual([
      { type: 'mobile', value: '0999' },
      { type: 'work', value: '0222222222' },
    ]);
  });

  it('keeps every item of one type within one value', () => {
    const result = patch({
      op: 'replace',
      value: {
        emails: [
          { type: 'work', value: 'a@example.com' },
          { type: 'work', value: 'b@example.com' },
        ],
      },
    });
    expect(result.emails).toEqual([
      { type: 'work', value: 'a@example.com' },
      { type: 'work', value: 'b@example.com' },
    ]);
  });

  it('does not apply the type rule to roles', () => {
    const result = patch({ op: 'add', value: { roles: [{ type: 'default', value: 'other' }] } });
    expect(result.roles).toHaveLength(2);
  });

  it('retyping an item keeps the item that already had that type', () => {
    const result = patch({ op: 'replace', path: 'emails[type eq "home"].type', value: 'work' });
    expect(result.emails).toEqual([
      { value: 'bob@work.example', type: 'work', primary: true },
      { value: 'bob@home.example', type: 'work' },
    ]);
  });

  it('rejects two primary values in one operation with INVALID_VALUE', () => {
    expectCode(
      () =>
        patch({
          op: 'add',
          path: 'emails',
          value: [
            { value: 'a@example.com', primary: true },
            { value: 'b@example.com', primary: true },
          ],
        }),
      'INVALID_VALUE',
    );
  });

  it('clears primary on the other items when a primary item is added', () => {
    const result = patch({
      op: 'add',
      path: 'emails',
      value: { value: 'new@example.com', type: 'other', primary: true },
    });
    expect(result.emails).toEqual([
      { value: 'bob@work.example', type: 'work' },
      { value: 'bob@home.example', type: 'home' },
      { value: 'new@example.com', type: 'other', primary: true },
    ]);
  });

  it('clears primary on the others when primary is set through a filter', () => {
    const result = patch({ op: 'replace', path: 'emails[type eq "home"].primary', value: 'true' });
    expect(result.emails).toEqual([
      { value: 'bob@work.example', type: 'work' },
      { value: 'bob@home.example', type: 'home', primary: true },
    ]);
  });
});

describe('mutability and types', () => {
  it.each(['id', 'meta', 'meta.created', 'groups'])('rejects operations on read-only %s with MUTABILITY', (path) => {
    expectCode(() => patch({ op: 'replace', path, value: 'x' }), 'MUTABILITY');
    expectCode(() => patch({ op: 'remove', path }), 'MUTABILITY');
  });

  it.each([
    [{ active: 'yes' }, 'active'],
    [{ userName: 5 }, 'userName'],
    [{ name: 'Bob Smith' }, 'name'],
    [{ name: { givenName: true } }, 'name.givenName'],
    [{ emails: [{ value: 'x', primary: 'maybe' }] }, 'emails.primary'],
    [{ emails: [42] }, 'emails'],
    [{ [WSO2]: { mobileNumbers: [1, 2] } }, 'mobileNumbers'],
    [{ [WSO2]: 'x' }, WSO2],
  ])('rejects %j with INVALID_VALUE naming %s', (value, attribute) => {
    const error = errorOf(() => patch({ op: 'replace', value }));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.detail).toContain(attribute);
  });

  it('rejects wrongly typed path values with INVALID_VALUE', () => {
    expectCode(() => patch({ op: 'replace', path: 'active', value: 1 }), 'INVALID_VALUE');
    expectCode(() => patch({ op: 'replace', path: 'name.givenName', value: { x: 1 } }), 'INVALID_VALUE');
    expectCode(
      () => patch({ op: 'replace', path: 'emails[type eq "work"]', value: [{ value: 'a' }, { value: 'b' }] }),
      'INVALID_VALUE',
    );
  });

  it('accepts "true"/"false" strings for booleans', () => {
    expect(patch({ op: 'replace', path: 'active', value: 'FALSE' }).active).toBe(false);
    expect(patch({ op: 'replace', value: { active: 'true' } }).active).toBe(true);
  });
});

describe('purity and atomicity', () => {
  it('does not mutate the resource or the operations', () => {
    const user = baseUser();
    const operations: PatchOperation[] = [
      { op: 'add', value: { phoneNumbers: [{ type: 'mobile', value: '0123456789' }] } },
      { op: 'replace', path: 'name.givenName', value: 'Rob' },
      { op: 'remove', path: 'emails[type eq "home"]' },
      { op: 'add', path: `${WSO2}:mobileNumbers`, value: '0771' },
    ];
    const operationsBefore = structuredClone(operations);
    const result = applyPatch(user, operations);
    expect(user).toEqual(baseUser());
    expect(operations).toEqual(operationsBefore);
    expect(result).not.toBe(user);
    expect(result.name).toEqual({ givenName: 'Rob', familyName: 'Smith' });
  });

  it('throws on the first failing operation without touching the input', () => {
    const user = baseUser();
    const error = errorOf(() =>
      applyPatch(user, [
        { op: 'replace', path: 'nickName', value: 'first' },
        { op: 'replace', path: 'id', value: 'x' },
        { op: 'bogus', path: 'nickName', value: 'never' },
      ]),
    );
    expect(error.code).toBe('MUTABILITY');
    expect(user).toEqual(baseUser());
  });
});

describe('prototype pollution', () => {
  const attempts: Array<[string, string, ErrorCode]> = [
    ['path __proto__.polluted', '[{"op":"add","path":"__proto__.polluted","value":true}]', 'INVALID_PATH'],
    ['pathless __proto__ key', '[{"op":"add","value":{"__proto__":{"polluted":1}}}]', 'INVALID_VALUE'],
    [
      'path constructor.prototype',
      '[{"op":"add","path":"constructor.prototype","value":{"polluted":true}}]',
      'INVALID_PATH',
    ],
    [
      'path constructor',
      '[{"op":"replace","path":"constructor","value":{"prototype":{"polluted":true}}}]',
      'INVALID_VALUE',
    ],
    [
      'nested __proto__ in a sub-value',
      '[{"op":"add","value":{"name":{"__proto__":{"polluted":1}}}}]',
      'INVALID_VALUE',
    ],
    [
      '__proto__ inside an extension',
      `[{"op":"add","value":{"${WSO2}":{"__proto__":{"polluted":1}}}}]`,
      'INVALID_VALUE',
    ],
    ['__proto__ in an item', '[{"op":"add","path":"emails","value":[{"__proto__":{"polluted":1}}]}]', 'INVALID_VALUE'],
    ['filter on prototype', '[{"op":"remove","path":"emails[prototype eq \\"x\\"]"}]', 'INVALID_PATH'],
    [
      'extension path with __proto__',
      `[{"op":"add","path":"${WSO2}:__proto__","value":{"polluted":1}}]`,
      'INVALID_PATH',
    ],
  ];

  it.each(attempts)('rejects %s', (_, operations, code) => {
    expectCode(() => applyPatch(baseUser(), JSON.parse(operations)), code);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('rejects __proto__ in PUT input', () => {
    expectCode(() => normalizeUserInput(JSON.parse('{"userName":"x","__proto__":{"polluted":1}}')), 'INVALID_VALUE');
    expectCode(
      () => normalizeUserInput(JSON.parse('{"userName":"x","constructor":{"prototype":{}}}')),
      'INVALID_VALUE',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('normalizeUserInput', () => {
  it('canonicalises a WSO2-style PUT body', () => {
    const body = JSON.parse(`{
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:scim:wso2:schema"],
      "id": "ignored",
      "meta": {"resourceType": "User"},
      "groups": [{"value": "g1"}],
      "USERNAME": "bob123",
      "name": {"givenName": "Bob", "FamilyName": "Smith", "middleName": null},
      "emails": ["bob@example.com"],
      "phoneNumbers": [{"type": "mobile", "value": "0111111111"}, {"type": "Mobile", "value": "0123456789"}],
      "roles": [{"value": "admin", "display": "Admin", "type": "custom"}],
      "active": "true",
      "nickName": null,
      "URN:SCIM:WSO2:SCHEMA": {"verifiedMobileNumbers": "0111111111, ,0123456789", "mobileNumbers": ["0111111111"]},
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {
        "pendingMobileNumber": "0999", "phoneVerified": true, "verifyMobile": "true", "manager": {"value": "m", "displayName": "M"}
      }
    }`);
    expect(normalizeUserInput(body)).toEqual({
      userName: 'bob123',
      name: { givenName: 'Bob', familyName: 'Smith' },
      emails: [{ value: 'bob@example.com' }],
      phoneNumbers: [
        { type: 'mobile', value: '0111111111' },
        { type: 'Mobile', value: '0123456789' },
      ],
      roles: [{ value: 'admin', display: 'Admin', type: 'custom' }],
      active: true,
      [WSO2]: { verifiedMobileNumbers: ['0111111111', '0123456789'], mobileNumbers: ['0111111111'] },
      // The user service decides what becomes of these (administrators only; ignored through /Me).
      [ENTERPRISE]: {
        pendingMobileNumber: '0999',
        phoneVerified: true,
        verifyMobile: true,
        manager: { value: 'm', displayName: 'M' },
      },
    });
  });

  it('wraps a single value of a multi-valued attribute and refuses two primaries (RFC 7643 2.4)', () => {
    expect(normalizeUserInput({ emails: { value: 'a@example.com' } })).toEqual({
      emails: [{ value: 'a@example.com' }],
    });
    const twoPrimaries = {
      emails: [
        { value: 'a@example.com', type: 'work', primary: true },
        { value: 'b@example.com', type: 'home', primary: 'true' },
      ],
    };
    expectCode(() => normalizeUserInput(twoPrimaries), 'INVALID_VALUE');
  });

  it('ignores unknown attributes (reporting their names) and rejects wrong types with INVALID_VALUE', () => {
    const ignored: string[] = [];
    expect(normalizeUserInput({ shoeSize: 42, userName: 'x' }, ignored)).toEqual({ userName: 'x' });
    expect(ignored).toEqual(['shoeSize']);
    expectCode(() => normalizeUserInput({ active: 'maybe' }), 'INVALID_VALUE');
    expectCode(() => normalizeUserInput({ [ENTERPRISE]: ['x'] }), 'INVALID_VALUE');
  });

  it('does not mutate its input', () => {
    const input = { emails: ['a@example.com'], [WSO2]: { mobileNumbers: '1,2' } };
    const before = structuredClone(input);
    normalizeUserInput(input);
    expect(input).toEqual(before);
  });
});
