import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, SCIM, scimRequest, startTestApp, type TestApp } from '../support/test-app.js';

interface AttributeDef {
  name: string;
  type: string;
  multiValued: boolean;
  mutability: string;
  returned: string;
  subAttributes?: AttributeDef[];
}

interface SchemaResource {
  id: string;
  name: string;
  attributes: AttributeDef[];
  meta: { resourceType: string; location: string };
}

function attribute(schema: SchemaResource, name: string): AttributeDef {
  const found = schema.attributes.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`${schema.id} has no attribute ${name}`);
  return found;
}

describe('SCIM discovery endpoints', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const get = (url: string) => scimRequest(t, { method: 'GET', url });

  it('/ServiceProviderConfig describes what is supported', async () => {
    const response = await get('/scim2/ServiceProviderConfig');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
    const body = json(response);
    expect(body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 },
      filter: { supported: true, maxResults: 200 },
      changePassword: { supported: true },
      sort: { supported: true },
      etag: { supported: true },
      meta: { resourceType: 'ServiceProviderConfig', location: 'http://localhost:80/scim2/ServiceProviderConfig' },
    });
    expect(body.authenticationSchemes).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'httpbasic' })]),
    );
  });

  it('/ResourceTypes lists User with both extensions, and Group', async () => {
    const response = await get('/scim2/ResourceTypes');
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body).toMatchObject({ schemas: [SCIM.listResponse], totalResults: 2, startIndex: 1, itemsPerPage: 2 });
    const [user, group] = body.Resources as Record<string, unknown>[];
    expect(group).toMatchObject({
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      schema: 'urn:ietf:params:scim:schemas:core:2.0:Group',
      meta: { resourceType: 'ResourceType', location: 'http://localhost:80/scim2/ResourceTypes/Group' },
    });
    expect(user).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      schema: SCIM.core,
      schemaExtensions: [
        { schema: SCIM.enterprise, required: false },
        { schema: SCIM.wso2, required: false },
      ],
      meta: { resourceType: 'ResourceType', location: 'http://localhost:80/scim2/ResourceTypes/User' },
    });
  });

  it('/ResourceTypes/User and /Group match the list entries; other types are 404', async () => {
    const list = json(await get('/scim2/ResourceTypes'));
    const single = await get('/scim2/ResourceTypes/User');
    expect(single.statusCode).toBe(200);
    expect(json(single)).toEqual((list.Resources as unknown[])[0]);
    const group = await get('/scim2/ResourceTypes/Group');
    expect(group.statusCode).toBe(200);
    expect(json(group)).toEqual((list.Resources as unknown[])[1]);
    const other = await get('/scim2/ResourceTypes/Role');
    expect(other.statusCode).toBe(404);
    expect(json(other)).toMatchObject({ schemas: [SCIM.error], status: '404' });
  });

  it('/Schemas lists the core, enterprise and WSO2 schemas, and the Group schema', async () => {
    const response = await get('/scim2/Schemas');
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body).toMatchObject({ schemas: [SCIM.listResponse], totalResults: 4, itemsPerPage: 4 });
    const schemas = body.Resources as SchemaResource[];
    expect(schemas.map((schema) => schema.id)).toEqual([
      SCIM.core,
      SCIM.enterprise,
      SCIM.wso2,
      'urn:ietf:params:scim:schemas:core:2.0:Group',
    ]);
    for (const schema of schemas) {
      expect(schema.meta).toEqual({
        resourceType: 'Schema',
        location: `http://localhost:80/scim2/Schemas/${schema.id}`,
      });
    }
  });

  it('the core schema: userName required, id and meta read-only, password write-only and never returned', async () => {
    const core = json(await get(`/scim2/Schemas/${SCIM.core}`)) as unknown as SchemaResource;
    expect(core.id).toBe(SCIM.core);
    expect(attribute(core, 'userName')).toMatchObject({ required: true, uniqueness: 'server', returned: 'always' });
    expect(attribute(core, 'id')).toMatchObject({ mutability: 'readOnly', returned: 'always' });
    expect(attribute(core, 'meta')).toMatchObject({ mutability: 'readOnly' });
    expect(attribute(core, 'password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
    expect(attribute(core, 'phoneNumbers')).toMatchObject({ type: 'complex', multiValued: true });
    expect(attribute(core, 'emails').subAttributes?.map((sub) => sub.name)).toEqual(
      expect.arrayContaining(['value', 'type', 'primary']),
    );
    expect(attribute(core, 'groups')).toMatchObject({ type: 'complex', multiValued: true, mutability: 'readOnly' });
    expect(attribute(core, 'groups').subAttributes?.map((sub) => sub.name)).toEqual([
      'value',
      '$ref',
      'display',
      'type',
    ]);
  });

  it('the Group schema: displayName required and unique, members of users and groups', async () => {
    const response = await get('/scim2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group');
    expect(response.statusCode).toBe(200);
    const group = json(response) as unknown as SchemaResource;
    expect(group).toMatchObject({ id: 'urn:ietf:params:scim:schemas:core:2.0:Group', name: 'Group' });
    expect(attribute(group, 'displayName')).toMatchObject({ required: true, uniqueness: 'server' });
    const members = attribute(group, 'members');
    expect(members).toMatchObject({ type: 'complex', multiValued: true, mutability: 'readWrite' });
    expect(members.subAttributes?.map((sub) => sub.name)).toEqual(['value', '$ref', 'type', 'display']);
    expect(members.subAttributes?.find((sub) => sub.name === '$ref')).toMatchObject({
      type: 'reference',
      referenceTypes: ['User', 'Group'],
    });
  });

  it('the enterprise schema has pendingMobileNumber and phoneVerified (administrators write them)', async () => {
    const enterprise = json(await get(`/scim2/Schemas/${SCIM.enterprise}`)) as unknown as SchemaResource;
    expect(enterprise.id).toBe(SCIM.enterprise);
    expect(attribute(enterprise, 'pendingMobileNumber')).toMatchObject({ type: 'string', mutability: 'readWrite' });
    expect(attribute(enterprise, 'phoneVerified')).toMatchObject({ type: 'boolean', mutability: 'readWrite' });
    for (const name of ['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager']) {
      expect(attribute(enterprise, name).mutability).toBe('readWrite');
    }
  });

  it('urn:scim:wso2:schema has the lists and, as WSO2 7.x, the verification attributes', async () => {
    const response = await get(`/scim2/Schemas/${SCIM.wso2}`);
    expect(response.statusCode).toBe(200);
    const wso2 = json(response) as unknown as SchemaResource;
    expect(wso2.id).toBe(SCIM.wso2);
    expect(wso2.attributes.map((attr) => attr.name)).toEqual([
      'mobileNumbers',
      'verifiedMobileNumbers',
      'pendingMobileNumber',
      'phoneVerified',
      'verifyMobile',
      'accountLocked',
    ]);
    expect(attribute(wso2, 'pendingMobileNumber')).toMatchObject({ type: 'string', multiValued: false });
    expect(attribute(wso2, 'phoneVerified')).toMatchObject({ type: 'boolean', multiValued: false });
    expect(attribute(wso2, 'verifyMobile')).toMatchObject({
      type: 'boolean',
      mutability: 'writeOnly',
      returned: 'never',
    });
    expect(attribute(wso2, 'mobileNumbers')).toMatchObject({ type: 'string', multiValued: true });
    expect(attribute(wso2, 'verifiedMobileNumbers')).toMatchObject({ type: 'string', multiValued: true });
  });

  it('/Schemas/{urn} matches case-insensitively and answers 404 for unknown URNs', async () => {
    const upper = await get(`/scim2/Schemas/${SCIM.enterprise.toUpperCase()}`);
    expect(upper.statusCode).toBe(200);
    expect(json(upper).id).toBe(SCIM.enterprise);
    for (const urn of ['urn:ietf:params:scim:schemas:core:2.0:Role', 'nope', '%00']) {
      const response = await get(`/scim2/Schemas/${urn}`);
      expect(response.statusCode, urn).toBe(404);
      expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '404' });
    }
  });

  it('uses PUBLIC_BASE_URL in meta.location when set', async () => {
    const other = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://id.example.com' } });
    try {
      const body = json(await scimRequest(other, { method: 'GET', url: '/scim2/ResourceTypes/User' }));
      expect(body.meta).toMatchObject({ location: 'https://id.example.com/scim2/ResourceTypes/User' });
      const created = await scimRequest(other, {
        method: 'POST',
        url: '/scim2/Users',
        body: { schemas: [SCIM.core], userName: 'based' },
      });
      const id = String(json(created).id);
      expect(created.headers.location).toBe(`https://id.example.com/scim2/Users/${id}`);
    } finally {
      await other.close();
    }
  });

  it.each([
    '/scim2/ServiceProviderConfig',
    '/scim2/ResourceTypes',
    '/scim2/ResourceTypes/User',
    '/scim2/ResourceTypes/Group',
    '/scim2/Schemas',
    `/scim2/Schemas/${SCIM.core}`,
  ])('POST, PUT, PATCH and DELETE on %s answer 405', async (url) => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      const response = await scimRequest(t, { method, url, ...(method === 'DELETE' ? {} : { body: {} }) });
      expect(response.statusCode, `${method} ${url}`).toBe(405);
      expect(response.headers.allow).toBe('GET');
      expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '405' });
    }
  });
});
