import type { MobileState } from '../verification/mobile-update-rules.js';
import { CLAIM, joinList, splitList } from './claims.js';
import type { MultiValues, UserAttributes, ValueItem } from './user-attributes.js';

const PHONE_NUMBERS = 'phoneNumbers';
const MOBILE = 'mobile';

function isMobile(item: ValueItem): boolean {
  return typeof item.type === 'string' && item.type.toLowerCase() === MOBILE && typeof item.value === 'string';
}

/** The primary mobile: the `phoneNumbers` value of type mobile, the one marked primary when there are several. */
export function primaryMobileIndex(items: readonly ValueItem[]): number {
  const marked = items.findIndex((item) => isMobile(item) && item.primary === true);
  return marked >= 0 ? marked : items.findIndex(isMobile);
}

export function primaryMobile(values: MultiValues): string | undefined {
  const items = values.get(PHONE_NUMBERS) ?? [];
  const value = items[primaryMobileIndex(items)]?.value;
  return typeof value === 'string' ? value : undefined;
}

/** Reads the mobile-related attributes into the verification rules' state. */
export function readMobileState(attributes: UserAttributes): MobileState {
  const { claims } = attributes;
  return {
    primary: primaryMobile(attributes.values),
    phoneVerified: claims.get(CLAIM.phoneVerified) === 'true',
    pending: claims.get(CLAIM.pendingMobileNumber),
    all: splitList(claims.get(CLAIM.mobileNumbers)),
    verified: splitList(claims.get(CLAIM.verifiedMobileNumbers)),
  };
}

/** Returns a copy of `attributes` with the mobile-related ones replaced by `state`. */
export function withMobileState(attributes: UserAttributes, state: MobileState): UserAttributes {
  const claims = new Map(attributes.claims);
  const set = (uri: string, value: string | undefined) =>
    value === undefined ? claims.delete(uri) : claims.set(uri, value);
  set(CLAIM.phoneVerified, state.phoneVerified && state.primary !== undefined ? 'true' : undefined);
  set(CLAIM.pendingMobileNumber, state.pending);
  set(CLAIM.mobileNumbers, joinList(state.all));
  set(CLAIM.verifiedMobileNumbers, joinList(state.verified));
  const values = new Map(attributes.values);
  const phones = withPrimaryMobile(values.get(PHONE_NUMBERS) ?? [], state.primary);
  if (phones.length > 0) values.set(PHONE_NUMBERS, phones);
  else values.delete(PHONE_NUMBERS);
  return { claims, values };
}

/** The primary mobile item gets `number` (keeping its other sub-attributes), is added, or is removed. */
function withPrimaryMobile(items: readonly ValueItem[], number: string | undefined): ValueItem[] {
  const index = primaryMobileIndex(items);
  if (number === undefined) return items.filter((_, position) => position !== index);
  if (index < 0) return [...items, { type: MOBILE, value: number }];
  return items.map((item, position) => (position === index ? { ...item, value: number } : item));
}
