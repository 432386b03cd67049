import { expect } from 'vitest';
import { json, scimRequest, type TestApp } from './test-app.js';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** Creates a group through SCIM as the admin; members are ids (users or groups). */
export async function createGroup(
  t: TestApp,
  displayName: string,
  members: string[] = [],
  extra: Record<string, unknown> = {},
): Promise<{ id: string; body: Record<string, unknown>; etag: string }> {
  const response = await scimRequest(t, {
    method: 'POST',
    url: '/scim2/Groups',
    body: { schemas: [GROUP_SCHEMA], displayName, members: members.map((value) => ({ value })), ...extra },
  });
  expect(response.statusCode, response.body).toBe(201);
  const body = json(response);
  return { id: String(body.id), body, etag: String(response.headers.etag) };
}

/** The ids of a group's members, as GET returns them. */
export async function memberIds(t: TestApp, groupId: string): Promise<string[]> {
  const response = await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${groupId}` });
  expect(response.statusCode, response.body).toBe(200);
  const members = (json(response).members ?? []) as { value: string }[];
  return members.map((member) => member.value).sort();
}

/** The user's `groups` attribute as GET /Users/{id} returns it. */
export async function groupsOfUser(t: TestApp, userId: string): Promise<{ value: string; type: string }[]> {
  const response = await scimRequest(t, { method: 'GET', url: `/scim2/Users/${userId}` });
  expect(response.statusCode, response.body).toBe(200);
  return ((json(response).groups ?? []) as { value: string; type: string }[]).map(({ value, type }) => ({
    value,
    type,
  }));
}
