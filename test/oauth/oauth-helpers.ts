import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestApp } from '../support/test-app.js';

export const FORM = 'application/x-www-form-urlencoded';

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

export function clientBasic(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
}

/** A form POST to one of the /oauth2 endpoints. */
export function oauthPost(
  t: TestApp,
  path: 'token' | 'revoke' | 'introspect',
  fields: Record<string, string>,
  authorization?: string,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: `/oauth2/${path}`,
    headers: { 'content-type': FORM, ...(authorization === undefined ? {} : { authorization }) },
    payload: new URLSearchParams(fields).toString(),
  });
}

export interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/** The password grant without a client (end users and scripts); expects success. */
export async function passwordToken(
  t: TestApp,
  username: string,
  password: string,
  scope?: string,
): Promise<TokenBody> {
  const response = await oauthPost(t, 'token', {
    grant_type: 'password',
    username,
    password,
    ...(scope === undefined ? {} : { scope }),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<TokenBody>();
}

export interface RegisteredClient {
  clientId: string;
  clientSecret: string;
}

/** Registers an OAuth client as the Basic administrator. */
export async function registerClient(
  t: TestApp,
  body: { name: string; grantTypes: string[]; scopes: string[] },
): Promise<RegisteredClient> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/server/v1/oauth-clients',
    headers: { authorization: t.adminAuth, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<RegisteredClient>();
}

/** The JWT's header and payload, decoded without checking anything. */
export function decodeJwtParts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  const decode = (part: string | undefined) =>
    JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: decode(header), payload: decode(payload) };
}
