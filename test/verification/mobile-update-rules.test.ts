import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import {
  confirmNumber,
  type MobileState,
  type MobileUpdatePolicy,
  type MobileUpdateRequest,
  planMobileUpdate,
} from '../../src/verification/mobile-update-rules.js';

const stored: MobileState = { primary: 'A', phoneVerified: true, pending: undefined, all: ['A'], verified: ['A'] };
const on: MobileUpdatePolicy = {
  enabled: true,
  privilegedBypass: false,
  requireVerifyFlag: false,
  multipleNumbers: true,
};
const request = (overrides: Partial<MobileUpdateRequest>): MobileUpdateRequest => ({
  primary: 'A',
  all: undefined,
  verified: undefined,
  verifyMobile: false,
  ...overrides,
});

describe('planMobileUpdate', () => {
  it('changes nothing when neither the primary nor the lists change', () => {
    const plan = planMobileUpdate(stored, request({}), on);
    expect(plan).toEqual({ state: stored, verification: null, clearCodes: false, skipped: null });
  });

  it('parks a new primary as pending and asks for a code', () => {
    const plan = planMobileUpdate(stored, request({ primary: 'B' }), on);
    expect(plan.state).toMatchObject({ primary: 'A', phoneVerified: true, pending: 'B' });
    expect(plan.verification).toEqual({ scenario: 'MOBILE_VERIFICATION_ON_UPDATE', number: 'B', repeat: false });
  });

  it('a verified-list number becomes primary at once', () => {
    const plan = planMobileUpdate({ ...stored, all: ['A', 'B'], verified: ['A', 'B'] }, request({ primary: 'B' }), on);
    expect(plan.state).toMatchObject({ primary: 'B', phoneVerified: true, pending: undefined });
    expect(plan.verification).toBeNull();
    expect(plan.skipped).toBe('ALREADY_VERIFIED');
  });

  it('removing the primary clears it, phoneVerified and any pending number', () => {
    const plan = planMobileUpdate({ ...stored, pending: 'B' }, request({ primary: undefined }), on);
    expect(plan.state).toMatchObject({ primary: undefined, phoneVerified: false, pending: undefined });
    expect(plan.clearCodes).toBe(true);
  });

  it('privileged bypass writes the number as verified; disabled verification writes it unverified', () => {
    const bypass = planMobileUpdate(stored, request({ primary: 'B' }), { ...on, privilegedBypass: true });
    expect(bypass.state).toMatchObject({ primary: 'B', phoneVerified: true });
    expect(bypass.skipped).toBe('PRIVILEGED_BYPASS');
    const off = planMobileUpdate(stored, request({ primary: 'B' }), { ...on, enabled: false });
    expect(off.state).toMatchObject({ primary: 'B', phoneVerified: false });
    expect(off.skipped).toBe('VERIFICATION_DISABLED');
  });

  it('one new verified number starts list verification and is left out of the list', () => {
    const plan = planMobileUpdate(stored, request({ verified: ['A', 'B'] }), on);
    expect(plan.state).toMatchObject({ primary: 'A', pending: 'B', verified: ['A'] });
    expect(plan.verification).toEqual({
      scenario: 'MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE',
      number: 'B',
      repeat: false,
    });
  });

  it('two new verified numbers are refused', () => {
    expect(() => planMobileUpdate(stored, request({ verified: ['A', 'B', 'C'] }), on)).toThrowError(AppError);
  });

  it('list writes need MULTIPLE_MOBILE_NUMBERS', () => {
    expect(() => planMobileUpdate(stored, request({ all: ['A', 'B'] }), { ...on, multipleNumbers: false })).toThrow(
      /not writable/,
    );
  });

  it('verified numbers follow mobileNumbers', () => {
    const plan = planMobileUpdate({ ...stored, all: ['A', 'B'], verified: ['A', 'B'] }, request({ all: ['A'] }), on);
    expect(plan.state.verified).toEqual(['A']);
  });
});

describe('confirmNumber', () => {
  it('makes the number primary and, with multiple numbers, a member of both lists', () => {
    expect(confirmNumber({ ...stored, pending: 'B' }, 'MOBILE_VERIFICATION_ON_UPDATE', 'B', true)).toEqual({
      primary: 'B',
      phoneVerified: true,
      pending: undefined,
      all: ['A', 'B'],
      verified: ['A', 'B'],
    });
  });

  it('adds a list number without touching the primary', () => {
    const next = confirmNumber({ ...stored, pending: 'B' }, 'MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE', 'B', true);
    expect(next).toMatchObject({ primary: 'A', pending: undefined, verified: ['A', 'B'] });
  });

  it('a list number becomes primary when there is none', () => {
    const next = confirmNumber(
      { primary: undefined, phoneVerified: false, pending: 'B', all: [], verified: [] },
      'MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE',
      'B',
      true,
    );
    expect(next).toMatchObject({ primary: 'B', phoneVerified: true });
  });
});

describe('WSO2 parity rules', () => {
  it('the current primary sent again is no change, verified or not', () => {
    const unverified = { ...stored, phoneVerified: false, all: [], verified: [] };
    expect(planMobileUpdate(unverified, request({ primary: 'A' }), on)).toEqual({
      state: unverified,
      verification: null,
      clearCodes: false,
      skipped: null,
    });
  });

  it('the pending number sent again is a repeat of its verification', () => {
    const plan = planMobileUpdate({ ...stored, pending: 'B' }, request({ primary: 'B' }), on);
    expect(plan.verification).toEqual({ scenario: 'MOBILE_VERIFICATION_ON_UPDATE', number: 'B', repeat: true });
  });

  it('a primary verified while the lists were off counts as verified when they are turned on', () => {
    const before = { primary: 'B', phoneVerified: true, pending: undefined, all: [], verified: [] };
    const plan = planMobileUpdate(before, request({ primary: 'B', verified: ['A', 'B'] }), on);
    expect(plan.verification).toEqual({
      scenario: 'MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE',
      number: 'A',
      repeat: false,
    });
    expect(plan.state).toMatchObject({ primary: 'B', pending: 'A', all: ['B'], verified: ['B'] });
  });
});
