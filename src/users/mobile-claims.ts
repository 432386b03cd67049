import type { MobileState } from '../verification/mobile-update-rules.js';
import { CLAIM, type ClaimMap, joinList, splitList } from './claims.js';

/** Reads the mobile-related claims into the verification rules' state. */
export function readMobileState(claims: ClaimMap): MobileState {
  return {
    primary: claims.get(CLAIM.mobile),
    phoneVerified: claims.get(CLAIM.phoneVerified) === 'true',
    pending: claims.get(CLAIM.pendingMobileNumber),
    all: splitList(claims.get(CLAIM.mobileNumbers)),
    verified: splitList(claims.get(CLAIM.verifiedMobileNumbers)),
  };
}

/** Returns a copy of `claims` with the mobile-related claims replaced by `state`. */
export function withMobileState(claims: ClaimMap, state: MobileState): Map<string, string> {
  const next = new Map(claims);
  const set = (uri: string, value: string | undefined) =>
    value === undefined ? next.delete(uri) : next.set(uri, value);
  set(CLAIM.mobile, state.primary);
  set(CLAIM.phoneVerified, state.phoneVerified && state.primary !== undefined ? 'true' : undefined);
  set(CLAIM.pendingMobileNumber, state.pending);
  set(CLAIM.mobileNumbers, joinList(state.all));
  set(CLAIM.verifiedMobileNumbers, joinList(state.verified));
  return next;
}
