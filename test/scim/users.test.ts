import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basicAuth,
  countUsers,
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

const WSO2 = 'http://wso2.org/claims';

describe('SCIM /Users CRUD', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  // No password: hashing one costs about 100 ms and most users here never sign in.
  const newUser = (userName: string, extra: Record<string, unknown> = {}) =>
    createUser(t, userName, { password: undefined, ...extra });
  const post = (body: unknown) => scimRequest(t, { method: 'POST', url: '/scim2/Users', body });
  const get = (id: string, query = '') => scimRequest(t, { method: 'GET', url: `/scim2/Users/${id}${query}` });
  const put = (id: string, body: unknown, headers: Record<string, string> = {}) =>
    scimRequest(t, { method: 'PUT', url: `/scim2/Users/${id}`, body, headers });

  describe('POST /Users', () => {
    it('creates a user: 201, Location, meta, ETag, no password in the body, scrypt hash in the row', async () => {
      const userName = uniqueName('create');
      const response = await post({
        schemas: [SCIM.core],
        userName,
        password: 'S3cret-create!',
        name: { givenName: 'Bob', familyName: 'Smith' },
      });
      expect(response.statusCode).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
      const body = json(response);
      expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(body.userName).toBe(userName);
      expect(body.schemas).toEqual([SCIM.core, SCIM.enterprise, SCIM.wso2]);
      expect(body.name).toEqual({ givenName: 'Bob', familyName: 'Smith' });
      expect(body.active).toBe(true);
      // Roles are what was stored: none given, none returned (no synthetic Internal/everyone).
      expect(body).not.toHaveProperty('roles');
      expect(body).not.toHaveProperty('password');
      expect(response.body).not.toContain('S3cret-create!');

      const meta = body.meta as Record<string, unknown>;
      expect(meta.resourceType).toBe('User');
      expect(meta.location).toBe(`http://localhost:80/scim2/Users/${String(body.id)}`);
      expect(response.headers.location).toBe(meta.location);
      expect(meta.version).toBe('W/"1"');
      expect(response.headers.etag).toBe(meta.version);
      expect(meta.created).toBe(t.clock.now().toISOString());
      expect(meta.lastModified).toBe(meta.created);

      const stored = await storedUser(t, String(body.id));
      expect(stored.row?.user_name).toBe(userName);
      expect(stored.row?.password_hash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
      expect(stored.row?.password_hash).not.toContain('S3cret-create!');
      expect(stored.row?.is_admin).toBe(false);
      expect(stored.claims.get(`${WSO2}/givenname`)).toBe('Bob');
      expect(stored.claims.get(`${WSO2}/lastname`)).toBe('Smith');

      const me = await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: basicAuth(userName, 'S3cret-create!') });
      expect(me.statusCode).toBe(200);
    });

    it('refuses a userName that differs only in case: 409 uniqueness, nothing created', async () => {
      const userName = uniqueName('CaseUser');
      await newUser(userName);
      const before = await countUsers(t);
      const response = await post({ schemas: [SCIM.core], userName: userName.toLowerCase(), password: 'x-password' });
      expect(response.statusCode).toBe(409);
      expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '409', scimType: 'uniqueness' });
      expect(await countUsers(t)).toBe(before);
    });

    it.each([
      ['missing', {}],
      ['empty', { userName: '' }],
      ['blank', { userName: '   ' }],
      ['not a string', { userName: 42 }],
      ['null', { userName: null }],
    ])('refuses a %s userName: 400', async (_label, extra) => {
      const before = await countUsers(t);
      const response = await post({ schemas: [SCIM.core], password: 'x-password', ...extra });
      expect(response.statusCode).toBe(400);
      expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '400' });
      expect(await countUsers(t)).toBe(before);
    });

    it('accepts emails given as strings (WSO2) and answers them in RFC 7643 form', async () => {
      const { body, id } = await newUser(uniqueName('strmail'), { emails: ['bob@example.com'] });
      expect(body.emails).toEqual([{ value: 'bob@example.com' }]);
      expect(json(await get(id)).emails).toEqual([{ value: 'bob@example.com' }]);
    });

    it('round-trips typed emails, phoneNumbers and addresses', async () => {
      const emails = [
        { type: 'work', value: 'bob@work.example', primary: true },
        { type: 'home', value: 'bob@home.example' },
      ];
      const phoneNumbers = [
        { type: 'mobile', value: '0111111111' },
        { type: 'work', value: '0222222222' },
      ];
      const addresses = [
        { type: 'work', streetAddress: '1 Main St', locality: 'Springfield', postalCode: '12345', country: 'US' },
        { type: 'home', formatted: '2 Side St, Shelbyville' },
      ];
      const { body, id } = await newUser(uniqueName('typed'), { emails, phoneNumbers, addresses });
      for (const representation of [body, json(await get(id))]) {
        expect(representation.emails).toEqual(emails);
        expect(representation.phoneNumbers).toEqual(phoneNumbers);
        expect(representation.addresses).toEqual(addresses);
      }
      const stored = await t.db
        .selectFrom('user_values')
        .select(['attribute', 'ordinal', 'value'])
        .where('user_id', '=', id)
        .where('sub_attribute', '=', 'locality')
        .execute();
      expect(stored).toEqual([{ attribute: 'addresses', ordinal: 0, value: 'Springfield' }]);
    });

    it('round-trips the enterprise extension', async () => {
      const enterprise = {
        employeeNumber: 'E-42',
        costCenter: 'CC-1',
        organization: 'Acme',
        division: 'R&D',
        department: 'Engineering',
        manager: { value: 'boss-id' },
      };
      const { body, id } = await newUser(uniqueName('ent'), {
        schemas: [SCIM.core, SCIM.enterprise],
        [SCIM.enterprise]: enterprise,
      });
      expect(body[SCIM.enterprise]).toEqual(enterprise);
      expect(json(await get(id))[SCIM.enterprise]).toEqual(enterprise);
      expect((await storedUser(t, id)).claims.get(`${WSO2}/department`)).toBe('Engineering');
    });

    it('ignores read-only attributes in the body (id, meta, pendingMobileNumber, groups)', async () => {
      const forgedId = '00000000-0000-4000-8000-000000000000';
      const { body, id } = await newUser(uniqueName('readonly'), {
        id: forgedId,
        meta: { resourceType: 'Group', created: '2000-01-01T00:00:00.000Z', version: 'W/"99"' },
        groups: [{ value: 'g1' }],
        [SCIM.enterprise]: { pendingMobileNumber: '0999999999', department: 'Ops' },
      });
      expect(id).not.toBe(forgedId);
      expect(body.meta).toMatchObject({ resourceType: 'User', version: 'W/"1"' });
      expect((body.meta as Record<string, unknown>).created).not.toBe('2000-01-01T00:00:00.000Z');
      expect(body[SCIM.enterprise]).toEqual({ department: 'Ops' });
      expect(body).not.toHaveProperty('groups');
      expect((await storedUser(t, forgedId)).row).toBeUndefined();
      expect([...(await storedUser(t, id)).claims.keys()]).toEqual([`${WSO2}/department`]);
    });

    it('ignores attributes the server does not define (logged at debug with the request id), never stores them', async () => {
      const { body, id } = await newUser(uniqueName('unknown'), {
        favouriteColour: 'blue',
        'urn:example:unknown:2.0:User': { shoeSize: 44 },
        emails: [{ type: 'carrier-pigeon', value: 'x' }],
      });
      expect(body).not.toHaveProperty('favouriteColour');
      expect(body.emails).toEqual([{ type: 'carrier-pigeon', value: 'x' }]);
      expect((await storedUser(t, id)).claims.size).toBe(0);
      const line = t.logs.find((entry) => entry.includes('favouriteColour'));
      expect(line).toBeDefined();
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 20, reqId: expect.any(String) });
    });

    it('ignores sub-attributes the server does not define (name.nickname, emails.label): logged, never stored', async () => {
      const { body, id } = await newUser(uniqueName('unknownsub'), {
        name: { givenName: 'Nick', nickname: 'Nicky' },
        emails: [{ type: 'work', value: 'nick@example.com', label: 'office' }],
      });
      expect(body.name).toEqual({ givenName: 'Nick' });
      expect(body.emails).toEqual([{ type: 'work', value: 'nick@example.com' }]);
      const stored = await storedUser(t, id);
      expect(JSON.stringify([...stored.claims.values()])).not.toContain('Nicky');
      expect(JSON.stringify(stored)).not.toContain('office');
      const line = t.logs.find((entry) => entry.includes('name.nickname'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 20, reqId: expect.any(String) });
      expect(line).toContain('emails.label');
    });

    it('rejects a wrongly typed value with 400 and creates nothing', async () => {
      const before = await countUsers(t);
      for (const extra of [
        { roles: [{ value: 42 }] },
        { roles: [{ value: 'x', primary: 'maybe' }] },
        { active: 'maybe' },
      ]) {
        const response = await post({ schemas: [SCIM.core], userName: uniqueName('bad'), ...extra });
        expect(response.statusCode, JSON.stringify(extra)).toBe(400);
        expect(json(response).scimType).toBe('invalidValue');
      }
      expect(await countUsers(t)).toBe(before);
    });
  });

  describe('GET /Users/{id}', () => {
    it('returns the user with its ETag', async () => {
      const { id, body } = await newUser(uniqueName('get'), { displayName: 'Getter' });
      const response = await get(id);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(response.headers.etag).toBe('W/"1"');
      expect(json(response)).toEqual(body);
    });

    it.each([
      ['an unknown uuid', '3f1e0c9a-9b7e-4c1e-8d2a-0a1b2c3d4e5f'],
      ['a non-uuid id', 'not-a-uuid'],
      ['a numeric id', '12345'],
      ['an injection attempt', "x'%20or%20'1'%3D'1"],
      ['an upper-case unknown uuid', '3F1E0C9A-9B7E-4C1E-8D2A-0A1B2C3D4E5F'],
      ['a percent-encoded NUL', 'abc%00def'],
    ])('answers 404 for %s', async (_label, id) => {
      for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
        const body =
          method === 'PUT'
            ? { schemas: [SCIM.core], userName: 'ghost' }
            : method === 'PATCH'
              ? patchBody({ op: 'replace', path: 'displayName', value: 'x' })
              : undefined;
        const response = await scimRequest(t, { method, url: `/scim2/Users/${id}`, body });
        expect(response.statusCode, method).toBe(404);
        expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '404' });
      }
    });

    it('finds a user by its id in upper case', async () => {
      const { id } = await newUser(uniqueName('upper'));
      const response = await get(id.toUpperCase());
      expect(response.statusCode).toBe(200);
      expect(json(response).id).toBe(id);
    });

    it('honours attributes', async () => {
      const { id } = await newUser(uniqueName('attrs'), {
        name: { givenName: 'Ann', familyName: 'Lee' },
        emails: ['ann@example.com'],
        [SCIM.enterprise]: { department: 'Sales', costCenter: 'C1' },
      });
      const response = await get(id, '?attributes=name.givenName,emails');
      expect(response.statusCode).toBe(200);
      const body = json(response);
      expect(Object.keys(body).sort()).toEqual(['emails', 'id', 'name', 'schemas', 'userName']);
      expect(body.name).toEqual({ givenName: 'Ann' });
      expect(body.emails).toEqual([{ value: 'ann@example.com' }]);

      const extension = json(await get(id, `?attributes=${SCIM.enterprise}:department`));
      expect(extension[SCIM.enterprise]).toEqual({ department: 'Sales' });
      expect(extension).not.toHaveProperty('name');

      const caseInsensitive = json(await get(id, '?attributes=NAME.GIVENNAME'));
      expect(caseInsensitive.name).toEqual({ givenName: 'Ann' });

      const password = json(await get(id, '?attributes=password'));
      expect(Object.keys(password).sort()).toEqual(['id', 'schemas', 'userName']);
    });

    it('honours excludedAttributes but always returns id and userName', async () => {
      const { id } = await newUser(uniqueName('excl'), {
        name: { givenName: 'Ann', familyName: 'Lee' },
        emails: ['ann@example.com'],
        [SCIM.enterprise]: { department: 'Sales', costCenter: 'C1' },
      });
      const body = json(
        await get(id, `?excludedAttributes=emails,meta,userName,id,name.familyName,${SCIM.enterprise}`),
      );
      expect(body).not.toHaveProperty('emails');
      expect(body).not.toHaveProperty('meta');
      expect(body).not.toHaveProperty(SCIM.enterprise);
      expect(body.name).toEqual({ givenName: 'Ann' });
      expect(body.id).toBe(id);
      expect(typeof body.userName).toBe('string');
    });

    it('rejects a malformed attribute list with 400', async () => {
      const { id } = await newUser(uniqueName('badattr'));
      const response = await get(id, '?attributes=name..givenName');
      expect(response.statusCode).toBe(400);
    });
  });

  describe('PUT /Users/{id}', () => {
    it('replaces the whole resource: absent attributes are cleared, read-only ignored, password kept', async () => {
      const userName = uniqueName('put');
      const { id, auth } = await createUser(t, userName, {
        name: { givenName: 'Bob', familyName: 'Smith' },
        displayName: 'Bobby',
        emails: [{ type: 'work', value: 'bob@work.example' }],
        addresses: [{ type: 'home', locality: 'Paris' }],
        [SCIM.enterprise]: { department: 'Sales', employeeNumber: '7' },
      });
      const before = await storedUser(t, id);
      const response = await put(id, {
        schemas: [SCIM.core],
        id: '00000000-0000-4000-8000-000000000000',
        meta: { version: 'W/"42"' },
        userName,
        name: { givenName: 'Robert' },
        [SCIM.enterprise]: { department: 'Engineering', pendingMobileNumber: '0999999999' },
      });
      expect(response.statusCode).toBe(200);
      const body = json(response);
      expect(body.id).toBe(id);
      expect(body.name).toEqual({ givenName: 'Robert' });
      expect(body).not.toHaveProperty('displayName');
      expect(body).not.toHaveProperty('emails');
      expect(body).not.toHaveProperty('addresses');
      expect(body[SCIM.enterprise]).toEqual({ department: 'Engineering' });
      expect((body.meta as Record<string, unknown>).version).toBe('W/"2"');
      expect(json(await get(id))).toEqual(body);

      const after = await storedUser(t, id);
      expect(Object.fromEntries(after.claims)).toEqual({
        [`${WSO2}/givenname`]: 'Robert',
        [`${WSO2}/department`]: 'Engineering',
      });
      expect(after.row?.password_hash).toBe(before.row?.password_hash);
      expect((await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth })).statusCode).toBe(200);
    });

    it('changes the password when one is given', async () => {
      const userName = uniqueName('putpw');
      const { id, auth } = await createUser(t, userName);
      const response = await put(id, { schemas: [SCIM.core], userName, password: 'brand-new-password' });
      expect(response.statusCode).toBe(200);
      expect(response.body).not.toContain('brand-new-password');
      expect((await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth })).statusCode).toBe(401);
      const fresh = basicAuth(userName, 'brand-new-password');
      expect((await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: fresh })).statusCode).toBe(200);
    });

    it('accepts its own GET representation back unchanged', async () => {
      const { id } = await newUser(uniqueName('echo'), {
        name: { givenName: 'Eve', familyName: 'Echo' },
        emails: ['eve@example.com', { type: 'work', value: 'eve@work.example' }],
        phoneNumbers: [{ type: 'work', value: '0222222222' }],
        [SCIM.enterprise]: { department: 'QA', manager: { value: 'm-1' } },
      });
      const current = json(await get(id));
      const response = await put(id, current);
      expect(response.statusCode).toBe(200);
      const { meta: metaAfter, ...after } = json(response);
      const { meta: metaBefore, ...before } = current;
      expect(after).toEqual(before);
      expect((metaAfter as Record<string, unknown>).version).toBe('W/"2"');
      expect((metaBefore as Record<string, unknown>).version).toBe('W/"1"');
    });

    it('refuses to rename a user onto an existing userName (any case): 409', async () => {
      const taken = uniqueName('Taken');
      await newUser(taken);
      const userName = uniqueName('renamer');
      const { id } = await newUser(userName);
      const response = await put(id, { schemas: [SCIM.core], userName: taken.toUpperCase() });
      expect(response.statusCode).toBe(409);
      expect(json(response).scimType).toBe('uniqueness');
      expect((await storedUser(t, id)).row?.user_name).toBe(userName);
    });

    it('requires userName: 400, nothing changed', async () => {
      const { id } = await newUser(uniqueName('noname'), { displayName: 'Keep' });
      const response = await put(id, { schemas: [SCIM.core], displayName: 'Lost' });
      expect(response.statusCode).toBe(400);
      const stored = await storedUser(t, id);
      expect(stored.claims.get(`${WSO2}/displayName`)).toBe('Keep');
      expect(stored.row?.version).toBe(1);
    });

    it('checks If-Match: stale 412 (nothing written), current 200, * 200', async () => {
      const userName = uniqueName('ifmatch');
      const { id } = await newUser(userName);
      const first = await put(id, { schemas: [SCIM.core], userName, displayName: 'one' });
      expect(first.headers.etag).toBe('W/"2"');

      const stale = await put(id, { schemas: [SCIM.core], userName, displayName: 'stale' }, { 'if-match': 'W/"1"' });
      expect(stale.statusCode).toBe(412);
      expect(json(stale)).toMatchObject({ schemas: [SCIM.error], status: '412' });
      const stored = await storedUser(t, id);
      expect(stored.row?.version).toBe(2);
      expect(stored.claims.get(`${WSO2}/displayName`)).toBe('one');

      const stalePatch = await scimRequest(t, {
        method: 'PATCH',
        url: `/scim2/Users/${id}`,
        body: patchBody({ op: 'replace', path: 'displayName', value: 'stale' }),
        headers: { 'if-match': '"1"' },
      });
      expect(stalePatch.statusCode).toBe(412);

      const current = await put(id, { schemas: [SCIM.core], userName, displayName: 'two' }, { 'if-match': 'W/"2"' });
      expect(current.statusCode).toBe(200);
      expect(current.headers.etag).toBe('W/"3"');

      const strong = await put(id, { schemas: [SCIM.core], userName, displayName: 'three' }, { 'if-match': '"3"' });
      expect(strong.statusCode).toBe(200);

      const any = await put(id, { schemas: [SCIM.core], userName, displayName: 'four' }, { 'if-match': '*' });
      expect(any.statusCode).toBe(200);
      expect(any.headers.etag).toBe('W/"5"');
    });

    it('moves the ETag and lastModified on every write', async () => {
      const userName = uniqueName('etag');
      const created = await newUser(userName);
      const seen = [String((created.body.meta as Record<string, unknown>).version)];
      const writes = [
        () => put(created.id, { schemas: [SCIM.core], userName, displayName: 'a' }),
        () =>
          scimRequest(t, {
            method: 'PATCH',
            url: `/scim2/Users/${created.id}`,
            body: patchBody({ op: 'replace', path: 'displayName', value: 'b' }),
          }),
        () =>
          scimRequest(t, {
            method: 'PATCH',
            url: `/scim2/Users/${created.id}`,
            body: patchBody({ op: 'add', path: 'nickName', value: 'c' }),
          }),
        () => put(created.id, { schemas: [SCIM.core], userName, displayName: 'a' }),
      ];
      for (const write of writes) {
        t.clock.advance(1000);
        const response = await write();
        expect(response.statusCode).toBe(200);
        const meta = json(response).meta as Record<string, unknown>;
        expect(response.headers.etag).toBe(meta.version);
        expect(seen).not.toContain(meta.version);
        expect(meta.lastModified).toBe(t.clock.now().toISOString());
        expect(meta.created).toBe((created.body.meta as Record<string, unknown>).created);
        seen.push(String(meta.version));
        expect((await get(created.id)).headers.etag).toBe(meta.version);
      }
    });
  });

  describe('DELETE /Users/{id}', () => {
    it('deletes: 204 with no body, then 404; the row and claims are gone', async () => {
      const { id } = await newUser(uniqueName('del'), { displayName: 'Doomed' });
      const response = await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${id}` });
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect((await get(id)).statusCode).toBe(404);
      expect((await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${id}` })).statusCode).toBe(404);
      const stored = await storedUser(t, id);
      expect(stored.row).toBeUndefined();
      expect(stored.claims.size).toBe(0);
    });

    it('accepts a DELETE that carries a JSON content type or Content-Length: 0 but no body', async () => {
      const variants: Record<string, string>[] = [
        { 'content-type': 'application/scim+json' },
        { 'content-type': 'application/json' },
        { 'content-length': '0' },
      ];
      for (const headers of variants) {
        const { id } = await newUser(uniqueName('delct'));
        const response = await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${id}`, headers });
        expect(response.statusCode, JSON.stringify(headers)).toBe(204);
      }
    });

    it('refuses to delete the last administrator, but deletes an administrator when another remains', async () => {
      const me = json(await scimRequest(t, { method: 'GET', url: '/scim2/Me' }));
      const adminId = String(me.id);
      const refused = await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${adminId}` });
      expect(refused.statusCode).toBe(400);
      expect(json(refused)).toMatchObject({ status: '400', scimType: 'mutability' });
      expect((await storedUser(t, adminId)).row?.is_admin).toBe(true);

      const second = await newUser(uniqueName('admin2'), { roles: [{ value: 'admin' }] });
      expect((await storedUser(t, second.id)).row?.is_admin).toBe(true);
      const removed = await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${second.id}` });
      expect(removed.statusCode).toBe(204);
      expect((await storedUser(t, adminId)).row?.is_admin).toBe(true);
    });

    it('refuses to demote or deactivate the last administrator, by PUT or PATCH', async () => {
      const me = json(await scimRequest(t, { method: 'GET', url: '/scim2/Me' }));
      const adminId = String(me.id);
      const before = await storedUser(t, adminId);
      const attempts = [
        {
          method: 'PUT' as const,
          body: { schemas: [SCIM.core], userName: me.userName, roles: [{ value: 'Internal/everyone' }] },
        },
        { method: 'PUT' as const, body: { schemas: [SCIM.core], userName: me.userName, active: false } },
        { method: 'PATCH' as const, body: patchBody({ op: 'remove', path: 'roles' }) },
        { method: 'PATCH' as const, body: patchBody({ op: 'remove', path: 'roles[value eq "admin"]' }) },
        { method: 'PATCH' as const, body: patchBody({ op: 'replace', path: 'active', value: false }) },
      ];
      for (const attempt of attempts) {
        const response = await scimRequest(t, { ...attempt, url: `/scim2/Users/${adminId}` });
        expect(response.statusCode, JSON.stringify(attempt.body)).toBe(400);
        expect(json(response).scimType).toBe('mutability');
      }
      expect(await storedUser(t, adminId)).toEqual(before);
      expect((await scimRequest(t, { method: 'GET', url: '/scim2/Users' })).statusCode).toBe(200);
    });

    it('demotes an administrator by PATCH remove roles while another remains; PUT without roles keeps the role', async () => {
      const userName = uniqueName('admin3');
      const { id } = await newUser(userName, { roles: [{ value: 'admin' }] });
      const put = await scimRequest(t, {
        method: 'PUT',
        url: `/scim2/Users/${id}`,
        body: { schemas: [SCIM.core], userName, displayName: 'Still admin' },
      });
      expect(put.statusCode).toBe(200);
      expect((await storedUser(t, id)).row?.is_admin).toBe(true);
      const demoted = await scimRequest(t, {
        method: 'PATCH',
        url: `/scim2/Users/${id}`,
        body: patchBody({ op: 'remove', path: 'roles' }),
      });
      expect(demoted.statusCode).toBe(200);
      expect(json(demoted)).not.toHaveProperty('roles');
      expect((await storedUser(t, id)).row?.is_admin).toBe(false);
    });
  });

  describe('concurrent writes', () => {
    it('creates one user when the same userName (in several cases) is posted at once', async () => {
      const base = uniqueName('race');
      const before = await countUsers(t);
      const responses = await Promise.all(
        [base, base.toUpperCase(), base.toLowerCase(), `${base.slice(0, 1).toUpperCase()}${base.slice(1)}`].map(
          (userName) => post({ schemas: [SCIM.core], userName }),
        ),
      );
      expect(responses.map((response) => response.statusCode).sort()).toEqual([201, 409, 409, 409]);
      expect(await countUsers(t)).toBe(before + 1);
    });

    it('lets exactly one of several writes with the same If-Match through', async () => {
      const userName = uniqueName('ifrace');
      const { id } = await newUser(userName);
      const responses = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          put(id, { schemas: [SCIM.core], userName, displayName: `writer ${n}` }, { 'if-match': 'W/"1"' }),
        ),
      );
      expect(responses.map((response) => response.statusCode).sort()).toEqual([200, 412, 412, 412]);
      const winner = responses.find((response) => response.statusCode === 200);
      const stored = await storedUser(t, id);
      expect(stored.row?.version).toBe(2);
      expect(stored.claims.get(`${WSO2}/displayName`)).toBe(
        winner === undefined ? undefined : json(winner).displayName,
      );
    });

    it('loses no update when several PATCHes run at once', async () => {
      const { id } = await newUser(uniqueName('patchrace'));
      const attributes = ['displayName', 'nickName', 'title', 'userType', 'preferredLanguage'];
      const responses = await Promise.all(
        attributes.map((path) =>
          scimRequest(t, {
            method: 'PATCH',
            url: `/scim2/Users/${id}`,
            body: patchBody({ op: 'add', path, value: `${path}-value` }),
          }),
        ),
      );
      expect(responses.every((response) => response.statusCode === 200)).toBe(true);
      const body = json(await get(id));
      for (const attribute of attributes) expect(body[attribute]).toBe(`${attribute}-value`);
      expect((body.meta as Record<string, unknown>).version).toBe(`W/"${attributes.length + 1}"`);
    });
  });

  it('answers 405 with Allow for unsupported methods', async () => {
    const { id } = await newUser(uniqueName('m405'));
    const onUsers = await scimRequest(t, { method: 'DELETE', url: '/scim2/Users' });
    expect(onUsers.statusCode).toBe(405);
    expect(onUsers.headers.allow).toBe('GET, POST');
    expect(json(onUsers)).toMatchObject({ schemas: [SCIM.error], status: '405' });
    const onUser = await scimRequest(t, { method: 'POST', url: `/scim2/Users/${id}`, body: {} });
    expect(onUser.statusCode).toBe(405);
    expect(onUser.headers.allow).toBe('GET, PUT, PATCH, DELETE');
  });
});
