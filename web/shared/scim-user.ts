/** The parts of a SCIM user the applications show, read from its core and extension attributes. */

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const WSO2 = 'urn:scim:wso2:schema';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface ScimUser {
  id: string;
  userName: string;
  active?: boolean;
  name?: { givenName?: string; familyName?: string; formatted?: string };
  emails?: { value: string; type?: string; primary?: boolean }[];
  phoneNumbers?: { value: string; type?: string; primary?: boolean }[];
  roles?: { value: string }[];
  meta?: { lastModified?: string };
  [extension: string]: unknown;
}

export interface MobileView {
  primary: string | undefined;
  primaryVerified: boolean;
  pending: string | undefined;
  all: string[];
  verified: string[];
}

function extension(user: ScimUser, urn: string): Record<string, unknown> {
  const value = user[urn];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  return items.map((item) => String(item).trim()).filter((item) => item !== '');
}

export function mobileOf(user: ScimUser): MobileView {
  const enterprise = extension(user, ENTERPRISE);
  const wso2 = extension(user, WSO2);
  const pending = enterprise.pendingMobileNumber ?? wso2.pendingMobileNumber;
  return {
    primary: user.phoneNumbers?.find((phone) => phone.type === 'mobile')?.value,
    primaryVerified: (enterprise.phoneVerified ?? wso2.phoneVerified) === true,
    pending: typeof pending === 'string' && pending !== '' ? pending : undefined,
    all: list(wso2.mobileNumbers),
    verified: list(wso2.verifiedMobileNumbers),
  };
}

export function displayName(user: ScimUser): string {
  const name = user.name;
  const formatted = name?.formatted ?? [name?.givenName, name?.familyName].filter(Boolean).join(' ');
  return formatted === '' ? user.userName : formatted;
}

export function patch(...operations: { op: string; path?: string; value?: unknown }[]) {
  return { schemas: [PATCH_OP], Operations: operations };
}

export function setPrimaryMobile(number: string) {
  return patch({ op: 'replace', value: { phoneNumbers: [{ type: 'mobile', value: number }] } });
}

export function setNumberLists(lists: { all?: string[]; verified?: string[] }) {
  const value: Record<string, string> = {};
  if (lists.all !== undefined) value.mobileNumbers = lists.all.join(',');
  if (lists.verified !== undefined) value.verifiedMobileNumbers = lists.verified.join(',');
  return patch({ op: 'replace', value: { [WSO2]: value } });
}
