import type { RootOperationNode } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryRecorder, recorded } from '../support/query-recorder.js';
import { createUser, json, SCIM, scimRequest, startTestApp, type TestApp, uniqueName } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';

/** The statements that name `table` anywhere (as a table or inside raw SQL). */
function mentioning(nodes: readonly RootOperationNode[], table: string): RootOperationNode[] {
  return nodes.filter((node) => new RegExp(`\\b${table}\\b`).test(JSON.stringify(node)));
}

describe('a user is read with its attributes in one query', () => {
  let t: TestApp;
  const recorder = new QueryRecorder();
  let closeDatabase: () => Promise<void>;
  let user: { id: string };

  beforeAll(async () => {
    const database = await createTestDatabase();
    closeDatabase = database.close;
    t = await startTestApp({ database: recorded(database, recorder) });
    user = await createUser(t, uniqueName('oneq'), {
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [
        { value: 'ada@example.com', type: 'work', primary: true },
        { value: 'ada@home.example', type: 'home' },
      ],
      phoneNumbers: [{ type: 'mobile', value: '+447700900001' }],
      [SCIM.enterprise]: { department: 'Engines' },
    });
  });
  afterAll(async () => {
    await t.close();
    await closeDatabase();
  });

  /** The statements reading claims and values: one, the same one that reads the users row. */
  function attributeReads(): RootOperationNode[] {
    const selects = recorder.nodes.filter((node) => node.kind === 'SelectQueryNode');
    const claims = mentioning(selects, 'user_claims');
    const values = mentioning(selects, 'user_values');
    expect(values).toEqual(claims);
    return values;
  }

  it('GET /Users/{id}: one statement for the row, its claims and its values, and the same body as before', async () => {
    await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` });
    recorder.clear();
    const response = await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` });
    expect(response.statusCode).toBe(200);
    expect(attributeReads()).toHaveLength(1);
    expect(json(response)).toMatchObject({
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [
        { value: 'ada@example.com', type: 'work', primary: true },
        { value: 'ada@home.example', type: 'home' },
      ],
      phoneNumbers: [{ type: 'mobile', value: '+447700900001' }],
      [SCIM.enterprise]: { department: 'Engines' },
    });
  });

  it('GET /Users/{id}: one statement in all, the groups included', async () => {
    await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` });
    recorder.clear();
    const response = await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` });
    expect(response.statusCode).toBe(200);
    expect(recorder.nodes).toHaveLength(1);
    expect(mentioning(recorder.nodes, 'group_members')).toHaveLength(1);
  });

  it('PATCH /Users/{id}: the row lock, the attributes and the groups in one statement that sees the latest write', async () => {
    recorder.clear();
    const response = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: { schemas: [SCIM.patchOp], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Augusta' }] },
    });
    expect(response.statusCode).toBe(200);
    const reads = attributeReads();
    expect(reads).toHaveLength(1);
    expect(JSON.stringify(reads[0])).toContain('"kind":"SelectModifierNode"');
    expect(mentioning(recorder.nodes, 'group_members')).toEqual(reads);
    // The read, then the changed claim with the new version in one statement (BEGIN and COMMIT are not Kysely's).
    expect(recorder.nodes).toHaveLength(2);
    expect(json(response)).toMatchObject({ name: { givenName: 'Augusta', familyName: 'Lovelace' } });
  });

  it('excludedAttributes=groups reads no membership', async () => {
    recorder.clear();
    const response = await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}?excludedAttributes=groups` });
    expect(response.statusCode).toBe(200);
    expect(recorder.nodes).toHaveLength(1);
    expect(mentioning(recorder.nodes, 'group_members')).toHaveLength(0);
  });

  it('a list page reads its users with their attributes in one statement', async () => {
    const filter = encodeURIComponent(
      `userName eq "${json(await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` })).userName}"`,
    );
    recorder.clear();
    const response = await scimRequest(t, { method: 'GET', url: `/scim2/Users?filter=${filter}` });
    expect(response.statusCode).toBe(200);
    expect(attributeReads()).toHaveLength(1);
    expect(json(response)).toMatchObject({ totalResults: 1, Resources: [{ id: user.id, emails: [{}, {}] }] });
  });
});
