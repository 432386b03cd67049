import { type Kysely, Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../migrations/index.js';
import type { Database } from '../../src/db/database.js';
import { bearer, clientBasic, oauthPost, passwordToken, registerClient } from '../oauth/oauth-helpers.js';
import {
  ADMIN,
  createUser,
  json,
  patchBody,
  SCIM,
  scimRequest,
  startTestApp,
  storedUser,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';

/**
 * `roles` is a lossless multi-valued attribute like `emails`; its value `admin` (any case) is also the
 * administrator flag, which only a caller who may manage administrators grants or revokes (issue #11 point 1).
 */
describe('roles: lossless, and admin as the one value with authority', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const ROLES = [
    { value: 'Employee', display: 'Employees', type: 'WindowsAzureActiveDirectoryRole', primary: true },
    { value: 'auditor', type: 'custom' },
    { value: 'Internal/everyone', type: 'default' },
    { value: 'no-type' },
  ];
  const get = async (id: string) => json(await scimRequest(t, { method: 'GET', url: `/scim2/Users/${id}` }));
  const patch = (id: string, ...operations: unknown[]) =>
    scimRequest(t, { method: 'PATCH', url: `/scim2/Users/${id}`, body: patchBody(...operations) });

  async function clientToken(scopes: string[]): Promise<string> {
    const client = await registerClient(t, { name: uniqueName('c'), grantTypes: ['client_credentials'], scopes });
    const response = await oauthPost(
      t,
      'token',
      { grant_type: 'client_credentials' },
      clientBasic(client.clientId, client.clientSecret),
    );
    expect(response.statusCode, response.body).toBe(200);
    return json(response).access_token as string;
  }

  it('keeps any number of roles, in order, with value, display, type and primary, through POST and GET', async () => {
    const { id, body } = await createUser(t, uniqueName('roles'), { roles: ROLES });
    expect(body.roles).toEqual(ROLES);
    expect((await get(id)).roles).toEqual(ROLES);
    const rows = await t.db
      .selectFrom('user_values')
      .select(['ordinal', 'sub_attribute', 'value'])
      .where('user_id', '=', id)
      .where('attribute', '=', 'roles')
      .orderBy('ordinal')
      .orderBy('sub_attribute')
      .execute();
    expect(rows.filter((row) => row.sub_attribute === 'value').map((row) => row.value)).toEqual(
      ROLES.map((role) => role.value),
    );
    // Plain role values are data: none of them makes the user an administrator.
    expect((await storedUser(t, id)).row?.is_admin).toBe(false);
  });

  it('two primary roles answer 400 invalidValue and create nothing', async () => {
    const userName = uniqueName('two-primaries');
    const response = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      body: {
        schemas: [SCIM.core],
        userName,
        roles: [
          { value: 'a', primary: true },
          { value: 'b', primary: true },
        ],
      },
    });
    expect(response.statusCode).toBe(400);
    expect(json(response).scimType).toBe('invalidValue');
    const listed = await scimRequest(t, {
      method: 'GET',
      url: `/scim2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`,
    });
    expect(json(listed).totalResults).toBe(0);
  });

  it('PATCH adds, edits and removes roles item by item; primary moves; PUT without roles keeps them', async () => {
    const userName = uniqueName('patch-roles');
    const { id } = await createUser(t, userName, { roles: [{ value: 'a', primary: true }, { value: 'b' }] });
    expect((await patch(id, { op: 'add', path: 'roles', value: [{ value: 'c', type: 'custom' }] })).statusCode).toBe(
      200,
    );
    expect((await patch(id, { op: 'replace', path: 'roles[value eq "b"].display', value: 'Bee' })).statusCode).toBe(
      200,
    );
    expect((await patch(id, { op: 'replace', path: 'roles[value eq "c"].primary', value: true })).statusCode).toBe(200);
    expect((await patch(id, { op: 'remove', path: 'roles[value eq "a"]' })).statusCode).toBe(200);
    const expected = [
      { value: 'b', display: 'Bee' },
      { value: 'c', type: 'custom', primary: true },
    ];
    expect((await get(id)).roles).toEqual(expected);
    const put = await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Users/${id}`,
      body: { schemas: [SCIM.core], userName, displayName: 'No roles named' },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(json(put).roles).toEqual(expected);
    const replaced = await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Users/${id}`,
      body: { schemas: [SCIM.core], userName, roles: [{ value: 'z' }] },
    });
    expect(json(replaced).roles).toEqual([{ value: 'z' }]);
  });

  it('filters and sorts by roles in SQL; administrators are found by roles.value eq "admin"', async () => {
    const tag = uniqueName('rf');
    const a = await createUser(t, `${tag}-a`, { roles: [{ value: `${tag}-zeta` }] });
    const b = await createUser(t, `${tag}-b`, { roles: [{ value: `${tag}-alpha`, type: 'custom' }] });
    const list = async (query: string) =>
      json(await scimRequest(t, { method: 'GET', url: `/scim2/Users?${query}` })).Resources as { id: string }[];
    const filter = (text: string) => `filter=${encodeURIComponent(text)}`;
    expect((await list(`${filter(`roles.value sw "${tag}"`)}&sortBy=roles`)).map((user) => user.id)).toEqual([
      b.id,
      a.id,
    ]);
    expect((await list(filter(`roles[type eq "custom" and value co "${tag}"]`))).map((user) => user.id)).toEqual([
      b.id,
    ]);
    const admins = await list(filter('roles eq "admin"'));
    expect(admins.map((user) => (user as { userName?: string }).userName)).toContain(ADMIN.userName);
  });

  it('the first administrator has the admin role stored, shown as before', async () => {
    const me = json(await scimRequest(t, { method: 'GET', url: '/scim2/Me' }));
    expect(me.roles).toEqual([{ value: 'admin', display: 'admin' }]);
  });

  it('/Schemas declares roles with writable value, display, type and primary, and what admin means', async () => {
    const schema = json(
      await scimRequest(t, { method: 'GET', url: `/scim2/Schemas/${encodeURIComponent(SCIM.core)}` }),
    ) as { attributes: { name: string; description: string; subAttributes: { name: string; mutability: string }[] }[] };
    const roles = schema.attributes.find((attribute) => attribute.name === 'roles');
    expect(roles?.description).toMatch(/'admin' makes the User an administrator/);
    expect(roles?.subAttributes.map((sub) => [sub.name, sub.mutability])).toEqual([
      ['value', 'readWrite'],
      ['display', 'readWrite'],
      ['type', 'readWrite'],
      ['primary', 'readWrite'],
    ]);
  });

  it('a Basic administrator grants administration with the admin value in any case, among other roles', async () => {
    const userName = uniqueName('promoted');
    const { id } = await createUser(t, userName, { roles: [{ value: 'reader' }] });
    const response = await patch(id, { op: 'add', path: 'roles', value: [{ value: 'Admin', display: 'Admins' }] });
    expect(response.statusCode, response.body).toBe(200);
    expect(json(response).roles).toEqual([{ value: 'reader' }, { value: 'Admin', display: 'Admins' }]);
    expect((await storedUser(t, id)).row?.is_admin).toBe(true);
    const token = await passwordToken(t, userName, `${userName}-password`);
    expect(token.scope.split(' ')).toContain('internal_role_mgt_update');
    const demoted = await patch(id, { op: 'remove', path: 'roles[value eq "admin"]' });
    expect(demoted.statusCode, demoted.body).toBe(200);
    expect(json(demoted).roles).toEqual([{ value: 'reader' }]);
    expect((await storedUser(t, id)).row?.is_admin).toBe(false);
  });

  it('user management alone edits plain roles, but granting or revoking admin is 403 and changes nothing', async () => {
    const token = await clientToken(['internal_user_mgt_create', 'internal_user_mgt_update', 'internal_user_mgt_view']);
    const auth = bearer(token);
    const created = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      auth,
      body: { schemas: [SCIM.core], userName: uniqueName('plain'), roles: [{ value: 'reader', type: 'app' }] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = String(json(created).id);
    const edited = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${id}`,
      auth,
      body: patchBody({ op: 'add', path: 'roles', value: [{ value: 'writer' }] }),
    });
    expect(edited.statusCode, edited.body).toBe(200);
    for (const operation of [
      { op: 'add', path: 'roles', value: [{ value: 'ADMIN' }] },
      { op: 'replace', path: 'roles[value eq "writer"].value', value: 'admin' },
      { op: 'replace', value: { roles: [{ value: 'admin', type: 'x' }] } },
    ]) {
      const before = await storedUser(t, id);
      const refused = await scimRequest(t, {
        method: 'PATCH',
        url: `/scim2/Users/${id}`,
        auth,
        body: patchBody(operation),
      });
      expect(refused.statusCode, JSON.stringify(operation)).toBe(403);
      expect(json(refused).detail).toMatch(/internal_role_mgt_update/);
      expect(await storedUser(t, id)).toEqual(before);
    }
    const admin = await createUser(t, uniqueName('an-admin'), { roles: [{ value: 'admin' }, { value: 'ops' }] });
    const revoke = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${admin.id}`,
      auth,
      body: patchBody({ op: 'remove', path: 'roles[value eq "admin"]' }),
    });
    expect(revoke.statusCode).toBe(403);
    // Editing an administrator's other roles keeps the admin role and needs no special right.
    const other = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${admin.id}`,
      auth,
      body: patchBody({ op: 'replace', path: 'roles[value eq "ops"].display', value: 'Operations' }),
    });
    expect(other.statusCode, other.body).toBe(200);
    expect(json(other).roles).toEqual([{ value: 'admin' }, { value: 'ops', display: 'Operations' }]);
    expect((await storedUser(t, admin.id)).row?.is_admin).toBe(true);
  });

  it('through /Me a user changes no role (400 mutability) but may echo them back', async () => {
    const userName = uniqueName('self');
    const me = await createUser(t, userName, { roles: [{ value: 'reader' }] });
    const current = json(await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: me.auth }));
    expect((await scimRequest(t, { method: 'PUT', url: '/scim2/Me', auth: me.auth, body: current })).statusCode).toBe(
      200,
    );
    const before = await storedUser(t, me.id);
    for (const operation of [
      { op: 'add', path: 'roles', value: [{ value: 'writer' }] },
      { op: 'remove', path: 'roles' },
      { op: 'replace', path: 'roles[value eq "reader"].display', value: 'R' },
    ]) {
      const response = await scimRequest(t, {
        method: 'PATCH',
        url: '/scim2/Me',
        auth: me.auth,
        body: patchBody(operation),
      });
      expect(response.statusCode, JSON.stringify(operation)).toBe(400);
      expect(json(response).scimType).toBe('mutability');
    }
    expect(await storedUser(t, me.id)).toEqual(before);
  });
});

describe('migration: administrators get their role item', () => {
  it('stores admin (display admin) for every administrator, nothing for others', async () => {
    const database = await createTestDatabase();
    const db: Kysely<Database> = database.handle.db;
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo('2026-12-01T0900_groups')).error).toBeUndefined();
      const adminId = '7b1c3c9e-0000-4000-8000-0000000000a1';
      const userId = '7b1c3c9e-0000-4000-8000-0000000000a2';
      await db
        .insertInto('users')
        .values([
          { id: adminId, user_name: 'legacy-admin', is_admin: true },
          { id: userId, user_name: 'legacy-user', is_admin: false },
        ])
        .execute();
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const rows = await db
        .selectFrom('user_values')
        .select(['user_id', 'attribute', 'ordinal', 'sub_attribute', 'value'])
        .where('attribute', '=', 'roles')
        .orderBy('sub_attribute')
        .execute();
      expect(rows).toEqual([
        { user_id: adminId, attribute: 'roles', ordinal: 0, sub_attribute: 'display', value: 'admin' },
        { user_id: adminId, attribute: 'roles', ordinal: 0, sub_attribute: 'value', value: 'admin' },
      ]);
    } finally {
      await database.close();
    }
  });
});
