/**
 * What the user store keeps beyond the `users` row: singular claims (user, claim URI, value) like WSO2's,
 * and multi-valued attributes item by item (user_values). How SCIM attributes map onto them is the SCIM
 * layer's business (src/scim/user-mapping.ts).
 */
const WSO2 = 'http://wso2.org/claims';

export const CLAIM = {
  username: `${WSO2}/username`,
  mobileNumbers: `${WSO2}/mobileNumbers`,
  verifiedMobileNumbers: `${WSO2}/verifiedMobileNumbers`,
  pendingMobileNumber: `${WSO2}/identity/mobileNumber.pendingValue`,
  phoneVerified: `${WSO2}/identity/phoneVerified`,
  accountLocked: `${WSO2}/identity/accountLocked`,
} as const;

export type ClaimMap = ReadonlyMap<string, string>;

/** Attributes that live in columns of the users table rather than in claims. */
export const COLUMN_ATTRIBUTES = {
  id: 'id',
  userName: 'user_name',
  active: 'active',
  'meta.created': 'created_at',
  'meta.lastModified': 'updated_at',
} as const;

/**
 * Multi-valued complex attributes of the core schema kept item by item (user_values), with every
 * sub-attribute, any number of values and any type. `roles` too: its value `admin` is also the
 * administrator flag (src/users/user.ts), `groups` is served by the Groups module.
 */
export const MULTI_VALUED_ATTRIBUTES = [
  'emails',
  'phoneNumbers',
  'ims',
  'photos',
  'addresses',
  'entitlements',
  'roles',
  'x509Certificates',
] as const;

export function isMultiValuedAttribute(name: string): boolean {
  return (MULTI_VALUED_ATTRIBUTES as readonly string[]).includes(name);
}

/** The comma-joined WSO2 lists, by claim URI. */
export const LIST_CLAIMS: ReadonlySet<string> = new Set([CLAIM.mobileNumbers, CLAIM.verifiedMobileNumbers]);

export const LIST_SEPARATOR = ',';

export function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(LIST_SEPARATOR)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function joinList(items: readonly string[]): string | undefined {
  const unique = [...new Set(items.map((item) => item.trim()).filter((item) => item.length > 0))];
  return unique.length === 0 ? undefined : unique.join(LIST_SEPARATOR);
}
