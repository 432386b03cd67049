import type { LightMyRequestResponse } from 'fastify';
import { type FakeServer, startFakeSmsGateway } from './fake-providers.js';
import { startTestApp, type TestApp, type TestAppOptions } from './test-app.js';

export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const WSO2 = 'urn:scim:wso2:schema';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEED_TEMPLATE = '{"content": {{body}},"to": {{mobile}}}';

export interface VerificationTestApp extends TestApp {
  gateway: FakeServer;
  /** Sends everything queued and returns the SMS that reached the gateway, oldest first. */
  deliver(): Promise<{ to: string; content: string }[]>;
  patch(auth: string, url: string, operations: unknown[]): Promise<LightMyRequestResponse>;
  post(auth: string, url: string, payload: unknown): Promise<LightMyRequestResponse>;
  get(auth: string, url: string): Promise<LightMyRequestResponse>;
}

/** The app with SMS going through the custom HTTP provider to a fake gateway on 127.0.0.1. */
export async function startVerificationApp(options: TestAppOptions = {}): Promise<VerificationTestApp> {
  const gateway = await startFakeSmsGateway();
  const testApp = await startTestApp({
    ...options,
    env: {
      SMS_PROVIDER: 'custom',
      SMS_CUSTOM_URL: `${gateway.url}/sms`,
      SMS_CUSTOM_PAYLOAD_TEMPLATE: SEED_TEMPLATE,
      ...options.env,
    },
  });
  let delivered = 0;
  const inject = (method: 'GET' | 'POST' | 'PATCH', auth: string, url: string, payload?: unknown) =>
    testApp.app.inject({
      method,
      url,
      headers: { authorization: auth, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
  return {
    ...testApp,
    gateway,
    deliver: async () => {
      await testApp.app.smsDispatcher.dispatchDueMessages();
      const fresh = gateway.requests.slice(delivered);
      delivered = gateway.requests.length;
      return fresh.map((request) => {
        const body = request.json as { content: string; to: string };
        return { to: body.to, content: body.content };
      });
    },
    patch: (auth, url, operations) => inject('PATCH', auth, url, { schemas: [PATCH_OP], Operations: operations }),
    post: (auth, url, payload) => inject('POST', auth, url, payload),
    get: (auth, url) => inject('GET', auth, url),
    close: async () => {
      await testApp.close();
      await gateway.close();
    },
  };
}

/** The one-time code in an SMS text rendered from the default template. */
export function codeIn(content: string): string {
  const match = /code is ([A-Za-z0-9]+)/.exec(content);
  if (match?.[1] === undefined) throw new Error(`no code in SMS text: ${content}`);
  return match[1];
}

export function mobileOf(user: Record<string, unknown>): string | undefined {
  const phones = user.phoneNumbers as { type?: string; value: string }[] | undefined;
  return phones?.find((phone) => phone.type === 'mobile')?.value;
}

export function enterpriseOf(user: Record<string, unknown>): Record<string, unknown> {
  return (user[ENTERPRISE] as Record<string, unknown> | undefined) ?? {};
}

/** The mobile number lists of urn:scim:wso2:schema (its verification attributes left out). */
export function listsOf(user: Record<string, unknown>): Record<string, unknown> {
  const { mobileNumbers, verifiedMobileNumbers } = wso2Of(user);
  return {
    ...(mobileNumbers === undefined ? {} : { mobileNumbers }),
    ...(verifiedMobileNumbers === undefined ? {} : { verifiedMobileNumbers }),
  };
}

export function wso2Of(user: Record<string, unknown>): Record<string, unknown> {
  return (user[WSO2] as Record<string, unknown> | undefined) ?? {};
}

export const replaceMobile = (number: string) => ({
  op: 'replace',
  value: { phoneNumbers: [{ type: 'mobile', value: number }] },
});
