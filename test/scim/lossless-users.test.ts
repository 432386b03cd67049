import { type Kysely, Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../migrations/index.js';
import type { Database } from '../../src/db/database.js';
import { json, patchBody, SCIM, scimRequest, startTestApp, type TestApp, uniqueName } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';

/** Every RFC 7643 section 4.1 and 4.3 attribute a client may write, with several values per multi-valued one. */
function fullUser(userName: string): Record<string, unknown> {
  return {
    userName,
    externalId: 'ext-1',
    name: {
      formatted: 'Ms. Barbara J Jensen III',
      familyName: 'Jensen',
      givenName: 'Barbara',
      middleName: 'Jane',
      honorificPrefix: 'Ms.',
      honorificSuffix: 'III',
    },
    displayName: 'Babs Jensen',
    nickName: 'Babs',
    profileUrl: 'https://login.example.com/bjensen',
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true, display: 'Work' },
      { value: 'babs@jensen.org', type: 'home' },
      { value: 'second@example.com', type: 'work' },
      { value: 'untyped@example.com' },
      { value: 'custom@example.com', type: 'alumni' },
    ],
    phoneNumbers: [
      { value: '+15555555555', type: 'work' },
      { value: '+15555555556', type: 'mobile', primary: true },
      { value: '+15555555557', type: 'other' },
    ],
    ims: [
      { value: 'someaimhandle', type: 'aim' },
      { value: 'babs.skype', type: 'skype', primary: true },
    ],
    photos: [
      { value: 'https://photos.example.com/profilephoto/72930000000Ccne/F', type: 'photo' },
      { value: 'https://photos.example.com/profilephoto/72930000000Ccne/T', type: 'thumbnail' },
    ],
    addresses: [
      {
        type: 'work',
        streetAddress: '100 Universal City Plaza',
        locality: 'Hollywood',
        region: 'CA',
        postalCode: '91608',
        country: 'USA',
        formatted: '100 Universal City Plaza\nHollywood, CA 91608 USA',
        primary: true,
      },
      { type: 'other', locality: 'Paris', country: 'FR' },
      { streetAddress: 'No type at all' },
    ],
    entitlements: [{ value: 'printer' }, { value: 'vpn', type: 'network', display: 'VPN access' }],
    x509Certificates: [{ value: 'MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx' }],
    userType: 'Employee',
    title: 'Tour Guide',
    preferredLanguage: 'en-US',
    locale: 'en-US',
    timezone: 'America/Los_Angeles',
    active: true,
    [SCIM.enterprise]: {
      employeeNumber: '701984',
      costCenter: '4130',
      organization: 'Universal Studios',
      division: 'Theme Park',
      department: 'Tour Operations',
      manager: {
        value: '26118915-6090-4610-87e4-49d8ca9f808d',
        $ref: 'https://example.com/scim2/Users/26118915-6090-4610-87e4-49d8ca9f808d',
        displayName: 'John Smith',
      },
    },
  };
}

/** What the server adds or computes; everything else must be exactly what the client sent. */
function clientPart(body: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, meta: _meta, schemas: _schemas, roles: _roles, ...rest } = body;
  const enterprise = { ...(rest[SCIM.enterprise] as Record<string, unknown>) };
  delete enterprise.phoneVerified;
  return { ...rest, [SCIM.enterprise]: enterprise };
}

describe('lossless users: every attribute round-trips through POST, GET, PUT, PATCH', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('POST then GET returns exactly what was sent, in order, with every sub-attribute', async () => {
    const sent = fullUser(uniqueName('bjensen'));
    const created = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      body: { schemas: [SCIM.core], ...sent },
    });
    expect(created.statusCode).toBe(201);
    expect(clientPart(json(created))).toEqual(sent);
    const fetched = await scimRequest(t, { method: 'GET', url: `/scim2/Users/${json(created).id}` });
    expect(clientPart(json(fetched))).toEqual(sent);
  });

  it('PUT replaces the whole set and PATCH edits single items without touching the others', async () => {
    const sent = fullUser(uniqueName('put'));
    const created = json(await scimRequest(t, { method: 'POST', url: '/scim2/Users', body: sent }));
    const replacement = { ...sent, emails: [{ value: 'only@example.com', type: 'other' }] };
    const put = await scimRequest(t, { method: 'PUT', url: `/scim2/Users/${created.id}`, body: replacement });
    expect(put.statusCode).toBe(200);
    expect(clientPart(json(put))).toEqual(replacement);

    const patched = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${created.id}`,
      body: patchBody(
        { op: 'add', path: 'emails', value: [{ value: 'more@example.com', type: 'work' }] },
        { op: 'replace', path: 'addresses[type eq "other"].locality', value: 'Lyon' },
        { op: 'remove', path: 'ims[type eq "aim"]' },
      ),
    });
    expect(patched.statusCode).toBe(200);
    const body = json(patched);
    expect(body.emails).toEqual([
      { value: 'only@example.com', type: 'other' },
      { value: 'more@example.com', type: 'work' },
    ]);
    expect((body.addresses as Record<string, unknown>[])[1]).toEqual({
      type: 'other',
      locality: 'Lyon',
      country: 'FR',
    });
    expect(body.ims).toEqual([{ value: 'babs.skype', type: 'skype', primary: true }]);
  });

  it('answers emails as objects, never bare strings, and accepts WSO2 bare strings on input', async () => {
    const created = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      body: { userName: uniqueName('bare'), emails: ['q@x.com'] },
    });
    expect(created.statusCode).toBe(201);
    expect(json(created).emails).toEqual([{ value: 'q@x.com' }]);
  });

  it.each(['POST', 'PUT'] as const)(
    '%s with two primary values answers 400 invalidValue and changes nothing',
    async (method) => {
      const userName = uniqueName('primaries');
      const existing = json(await scimRequest(t, { method: 'POST', url: '/scim2/Users', body: { userName } }));
      const body = {
        userName,
        emails: [
          { value: 'a@example.com', primary: true },
          { value: 'b@example.com', primary: true },
        ],
      };
      const response =
        method === 'POST'
          ? await scimRequest(t, { method, url: '/scim2/Users', body: { ...body, userName: uniqueName('other') } })
          : await scimRequest(t, { method, url: `/scim2/Users/${existing.id}`, body });
      expect(response.statusCode).toBe(400);
      expect(json(response).scimType).toBe('invalidValue');
      const after = json(await scimRequest(t, { method: 'GET', url: `/scim2/Users/${existing.id}` }));
      expect(after.emails).toBeUndefined();
    },
  );

  it('a PATCH that sets primary on one value clears it on the others', async () => {
    const created = json(
      await scimRequest(t, {
        method: 'POST',
        url: '/scim2/Users',
        body: {
          userName: uniqueName('primary'),
          emails: [{ value: 'a@example.com', primary: true }, { value: 'b@example.com' }],
        },
      }),
    );
    const bySub = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${created.id}`,
      body: patchBody({ op: 'replace', path: 'emails[value eq "b@example.com"].primary', value: true }),
    });
    expect(json(bySub).emails).toEqual([{ value: 'a@example.com' }, { value: 'b@example.com', primary: true }]);
    const byAdd = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${created.id}`,
      body: patchBody({ op: 'add', path: 'emails', value: [{ value: 'c@example.com', primary: true }] }),
    });
    expect(json(byAdd).emails).toEqual([
      { value: 'a@example.com' },
      { value: 'b@example.com' },
      { value: 'c@example.com', primary: true },
    ]);
  });

  it('filters on any multi-valued sub-attribute in SQL', async () => {
    const userName = uniqueName('filtered');
    await scimRequest(t, { method: 'POST', url: '/scim2/Users', body: fullUser(userName) });
    const names = async (filter: string) => {
      const response = await scimRequest(t, {
        method: 'GET',
        url: `/scim2/Users?filter=${encodeURIComponent(`(${filter}) and userName eq "${userName}"`)}`,
      });
      expect(response.statusCode).toBe(200);
      return (json(response).Resources as { userName: string }[]).map((user) => user.userName);
    };
    expect(await names('emails[type eq "work" and value eq "second@example.com"]')).toEqual([userName]);
    expect(await names('emails[type eq "alumni"]')).toEqual([userName]);
    expect(await names('ims.value eq "BABS.SKYPE"')).toEqual([userName]);
    expect(await names('addresses[type eq "other" and locality eq "paris"]')).toEqual([userName]);
    expect(await names('addresses[type eq "work" and locality eq "paris"]')).toEqual([]);
    expect(await names('entitlements.display co "vpn"')).toEqual([userName]);
    expect(await names('phoneNumbers[type eq "mobile" and primary eq true]')).toEqual([userName]);
    expect(
      await names('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName eq "John Smith"'),
    ).toEqual([userName]);
  });
});

describe('migration of the one-claim-per-type store', () => {
  it('carries typed email, phone and address claims over as items, the primary email marked', async () => {
    const database = await createTestDatabase();
    const db: Kysely<Database> = database.handle.db;
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      const result = await migrator.migrateTo('2026-11-29T0400_sms_outbox_sent_index');
      expect(result.error).toBeUndefined();
      const id = '7b1c3c9e-0000-4000-8000-000000000001';
      await db.insertInto('users').values({ id, user_name: 'legacy' }).execute();
      const W = 'http://wso2.org/claims';
      const claims = {
        [`${W}/emailaddress`]: 'w@example.com',
        [`${W}/emails.work`]: 'w@example.com',
        [`${W}/emails.home`]: 'h@example.com',
        [`${W}/mobile`]: '+15550001',
        [`${W}/phoneNumbers.work`]: '+15550002',
        [`${W}/addresses.home.locality`]: 'Berlin',
        [`${W}/addresses.home.country`]: 'DE',
        [`${W}/givenname`]: 'Leg',
      };
      await db
        .insertInto('user_claims')
        .values(Object.entries(claims).map(([claim_uri, value]) => ({ user_id: id, claim_uri, value })))
        .execute();
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const remaining = await db.selectFrom('user_claims').select('claim_uri').where('user_id', '=', id).execute();
      expect(remaining.map((row) => row.claim_uri)).toEqual([`${W}/givenname`]);
      const rows = await db
        .selectFrom('user_values')
        .select(['attribute', 'ordinal', 'sub_attribute', 'value'])
        .where('user_id', '=', id)
        .orderBy('attribute')
        .orderBy('ordinal')
        .orderBy('sub_attribute')
        .execute();
      expect(rows).toEqual([
        { attribute: 'addresses', ordinal: 0, sub_attribute: 'country', value: 'DE' },
        { attribute: 'addresses', ordinal: 0, sub_attribute: 'locality', value: 'Berlin' },
        { attribute: 'addresses', ordinal: 0, sub_attribute: 'type', value: 'home' },
        { attribute: 'emails', ordinal: 0, sub_attribute: 'primary', value: 'true' },
        { attribute: 'emails', ordinal: 0, sub_attribute: 'type', value: 'work' },
        { attribute: 'emails', ordinal: 0, sub_attribute: 'value', value: 'w@example.com' },
        { attribute: 'emails', ordinal: 1, sub_attribute: 'type', value: 'home' },
        { attribute: 'emails', ordinal: 1, sub_attribute: 'value', value: 'h@example.com' },
        { attribute: 'phoneNumbers', ordinal: 0, sub_attribute: 'type', value: 'mobile' },
        { attribute: 'phoneNumbers', ordinal: 0, sub_attribute: 'value', value: '+15550001' },
        { attribute: 'phoneNumbers', ordinal: 1, sub_attribute: 'type', value: 'work' },
        { attribute: 'phoneNumbers', ordinal: 1, sub_attribute: 'value', value: '+15550002' },
      ]);
    } finally {
      await database.close();
    }
  });
});
