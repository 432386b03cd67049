import { AppError } from '../errors/app-error.js';

/**
 * What happens to a user's mobile numbers when an update asks for a change: the rules of
 * WSO2's MobileNumberVerificationHandler, decided once here for PUT and PATCH on /Users and /Me.
 * Pure: takes the stored state and the request, returns the state to write and whether a code
 * must be sent.
 */
export type VerificationScenario = 'MOBILE_VERIFICATION_ON_UPDATE' | 'MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE';

export const VERIFICATION_SCENARIOS: readonly VerificationScenario[] = [
  'MOBILE_VERIFICATION_ON_UPDATE',
  'MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE',
];

export interface MobileState {
  primary: string | undefined;
  phoneVerified: boolean;
  pending: string | undefined;
  all: readonly string[];
  verified: readonly string[];
}

export interface MobileUpdateRequest {
  /** The primary mobile after the update (undefined: removed). */
  primary: string | undefined;
  /** The lists after the update; undefined when the request does not write them. */
  all: readonly string[] | undefined;
  verified: readonly string[] | undefined;
  verifyMobile: boolean;
}

export interface MobileUpdatePolicy {
  enabled: boolean;
  /** An administrator acting through /Users with SKIP_VERIFICATION_FOR_PRIVILEGED on. */
  privilegedBypass: boolean;
  requireVerifyFlag: boolean;
  multipleNumbers: boolean;
  /** Whether two spellings are one number (E.164 comparison); default: the same text. */
  sameNumber?: (a: string, b: string) => boolean;
}

export type SkipReason =
  | 'VERIFICATION_DISABLED'
  | 'PRIVILEGED_BYPASS'
  | 'ALREADY_VERIFIED'
  | 'VERIFY_FLAG_MISSING'
  | 'NUMBER_REMOVED';

export interface MobileUpdatePlan {
  state: MobileState;
  /**
   * Start verification of this number (old codes are killed first). `repeat`: the number is exactly the
   * one already pending, so the request is a resend and obeys the resend cooldown.
   */
  verification: { scenario: VerificationScenario; number: string; repeat: boolean } | null;
  /** Kill every live code of the user (the pending number changed or went away). */
  clearCodes: boolean;
  skipped: SkipReason | null;
}

type SameNumber = (a: string, b: string) => boolean;
const sameText: SameNumber = (a, b) => a === b;

/** List operations that treat two spellings of one number as one entry. */
function numberLists(same: SameNumber) {
  const has = (list: readonly string[], item: string | undefined) =>
    item !== undefined && list.some((entry) => same(entry, item));
  return {
    has,
    is: (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && same(a, b),
    union: (list: readonly string[], ...items: (string | undefined)[]): string[] => {
      const result = [...list];
      for (const item of items) if (item !== undefined && !has(result, item)) result.push(item);
      return result;
    },
    without: (list: readonly string[], item: string): string[] => list.filter((entry) => !same(entry, item)),
    sameList: (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((item) => has(b, item)),
    within: (verified: readonly string[], all: readonly string[]) => verified.filter((item) => has(all, item)),
  };
}
type NumberLists = ReturnType<typeof numberLists>;

export function planMobileUpdate(
  stored: MobileState,
  request: MobileUpdateRequest,
  policy: MobileUpdatePolicy,
): MobileUpdatePlan {
  const n = numberLists(policy.sameNumber ?? sameText);
  // An unchanged value is no change (WSO2's SCIM layer drops it before the handler): sync tools re-send it.
  const primaryRequested = request.primary !== stored.primary;
  const listsChanged =
    (request.all !== undefined && !n.sameList(request.all, stored.all)) ||
    (request.verified !== undefined && !n.sameList(request.verified, stored.verified));
  if (listsChanged && !policy.multipleNumbers) {
    throw new AppError(
      'MUTABILITY',
      'mobileNumbers and verifiedMobileNumbers are not writable: multiple mobile numbers are disabled',
    );
  }
  if (!primaryRequested && !listsChanged) {
    return { state: stored, verification: null, clearCodes: false, skipped: null };
  }
  if (!policy.enabled || policy.privilegedBypass) return planWithoutVerification(stored, request, policy, n);
  if (primaryRequested) return planPrimaryChange(stored, request, policy, n);
  return planVerifiedListChange(stored, request, policy, n);
}

function planWithoutVerification(
  stored: MobileState,
  request: MobileUpdateRequest,
  policy: MobileUpdatePolicy,
  n: NumberLists,
): MobileUpdatePlan {
  const bypass = policy.privilegedBypass && policy.enabled;
  let all = request.all ?? stored.all;
  let verified = request.verified ?? stored.verified;
  const primary = request.primary;
  let phoneVerified = false;
  if (primary !== undefined) {
    // An administrator's bypass vouches for the number; with verification off nothing does.
    phoneVerified = bypass || (n.is(primary, stored.primary) ? stored.phoneVerified : n.has(verified, primary));
    if (bypass && policy.multipleNumbers) {
      all = n.union(all, primary);
      verified = n.union(verified, primary);
    }
  }
  return {
    state: { primary, phoneVerified, pending: undefined, all, verified: n.within(verified, all) },
    verification: null,
    clearCodes: true,
    skipped: bypass ? 'PRIVILEGED_BYPASS' : 'VERIFICATION_DISABLED',
  };
}

function planPrimaryChange(
  stored: MobileState,
  request: MobileUpdateRequest,
  policy: MobileUpdatePolicy,
  n: NumberLists,
): MobileUpdatePlan {
  // The primary change wins: verified-list edits in the same request are discarded.
  const all = request.all ?? stored.all;
  const verified = stored.verified;
  const candidate = request.primary;
  if (candidate === undefined) {
    return {
      state: { primary: undefined, phoneVerified: false, pending: undefined, all, verified: n.within(verified, all) },
      verification: null,
      clearCodes: true,
      skipped: 'NUMBER_REMOVED',
    };
  }
  const alreadyVerified =
    (policy.multipleNumbers && n.has(verified, candidate)) || (n.is(candidate, stored.primary) && stored.phoneVerified);
  if (alreadyVerified) {
    const lists = policy.multipleNumbers
      ? { all: n.union(all, candidate), verified: n.union(verified, candidate) }
      : { all, verified };
    return {
      state: { primary: candidate, phoneVerified: true, pending: undefined, ...lists },
      verification: null,
      clearCodes: true,
      skipped: 'ALREADY_VERIFIED',
    };
  }
  if (policy.requireVerifyFlag && !request.verifyMobile) {
    return {
      state: { primary: candidate, phoneVerified: false, pending: undefined, all, verified: n.within(verified, all) },
      verification: null,
      clearCodes: true,
      skipped: 'VERIFY_FLAG_MISSING',
    };
  }
  return {
    state: { ...stored, pending: candidate, all, verified: n.within(verified, all) },
    verification: {
      scenario: 'MOBILE_VERIFICATION_ON_UPDATE',
      number: candidate,
      repeat: candidate === stored.pending,
    },
    clearCodes: true,
    skipped: null,
  };
}

function planVerifiedListChange(
  stored: MobileState,
  request: MobileUpdateRequest,
  policy: MobileUpdatePolicy,
  n: NumberLists,
): MobileUpdatePlan {
  const requested = request.verified ?? stored.verified;
  // A verified primary counts as verified even when it is missing from the list (verified while the lists
  // were disabled, before MULTIPLE_MOBILE_NUMBERS was turned on): listing it again needs no code.
  const verifiedPrimary = stored.phoneVerified ? stored.primary : undefined;
  const added = requested.filter((item) => !n.has(n.union(stored.verified, verifiedPrimary), item));
  if (added.length > 1) {
    throw new AppError('MULTIPLE_MOBILE_NUMBERS', 'Unable to verify multiple mobile numbers simultaneously.');
  }
  const candidate = added[0];
  const requestedAll = request.all ?? stored.all;
  const listsPrimary = n.has(requested, verifiedPrimary) && !n.has(stored.verified, verifiedPrimary);
  const all = listsPrimary ? n.union(requestedAll, verifiedPrimary) : requestedAll;
  const verified = candidate === undefined ? requested : n.without(requested, candidate);
  const unchanged = {
    state: { ...stored, all, verified: n.within(verified, all) },
    verification: null,
    clearCodes: false,
  };
  if (candidate === undefined) return { ...unchanged, skipped: null };
  if (policy.requireVerifyFlag && !request.verifyMobile) return { ...unchanged, skipped: 'VERIFY_FLAG_MISSING' };
  return {
    state: { ...unchanged.state, pending: candidate },
    verification: {
      scenario: 'MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE',
      number: candidate,
      repeat: candidate === stored.pending,
    },
    clearCodes: true,
    skipped: null,
  };
}

/** The state after a code for `number` was confirmed. */
export function confirmNumber(
  state: MobileState,
  scenario: VerificationScenario,
  number: string,
  multipleNumbers: boolean,
  sameNumber: SameNumber = sameText,
): MobileState {
  const n = numberLists(sameNumber);
  if (scenario === 'MOBILE_VERIFICATION_ON_UPDATE') {
    // The primary it replaces stays one of the user's verified numbers, even if it was verified while the
    // lists were disabled.
    const previous = state.phoneVerified ? state.primary : undefined;
    const lists = multipleNumbers
      ? { all: n.union(state.all, previous, number), verified: n.union(state.verified, previous, number) }
      : { all: state.all, verified: state.verified };
    return { primary: number, phoneVerified: true, pending: undefined, ...lists };
  }
  const becomesPrimary = state.primary === undefined || n.is(state.primary, number);
  return {
    primary: becomesPrimary ? number : state.primary,
    phoneVerified: becomesPrimary ? true : state.phoneVerified,
    pending: undefined,
    all: n.union(state.all, number),
    verified: n.union(state.verified, number),
  };
}
