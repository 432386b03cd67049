import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { AppError } from '../errors/app-error.js';

/**
 * Where codes may be sent. Numbers are parsed with libphonenumber-js; the stored value stays as the
 * client sent it, the E.164 form is what we send to and match on. Without a default region, numbers
 * written without a country code (such as the seed's 0123456789) are accepted as given.
 */
export interface DestinationPolicy {
  defaultRegion: CountryCode | undefined;
  /** Unset: every country. */
  allowedCountries: ReadonlySet<string> | undefined;
}

export interface CheckedDestination {
  e164: string | null;
  country: string | null;
}

// Types that cannot receive an SMS, or cost the sender a premium (SMS pumping targets).
const REFUSED_TYPES = new Set(['FIXED_LINE', 'PREMIUM_RATE', 'SHARED_COST', 'TOLL_FREE', 'VOICEMAIL', 'UAN', 'PAGER']);
// ASCII digits and the usual separators only: unicode lookalike digits are refused, not normalised.
const PLAIN_NUMBER = /^\+?[0-9][0-9 ()./-]{2,30}$/;

/** From PHONE_DEFAULT_REGION and SMS_ALLOWED_COUNTRIES, already validated by loadConfig. */
export function destinationPolicyOf(config: {
  PHONE_DEFAULT_REGION?: string | undefined;
  SMS_ALLOWED_COUNTRIES?: string | undefined;
}): DestinationPolicy {
  const region = config.PHONE_DEFAULT_REGION?.toUpperCase();
  const allowed = config.SMS_ALLOWED_COUNTRIES?.split(',')
    .map((code) => code.trim().toUpperCase())
    .filter((code) => code.length > 0);
  return {
    defaultRegion: region !== undefined && isSupportedCountry(region) ? region : undefined,
    allowedCountries: allowed === undefined || allowed.length === 0 ? undefined : new Set(allowed),
  };
}

export function checkDestination(number: string, policy: DestinationPolicy): CheckedDestination {
  const trimmed = number.trim();
  if (!PLAIN_NUMBER.test(trimmed)) {
    throw new AppError('INVALID_VALUE', 'The mobile number may contain only digits, spaces, ( ) . - and a leading +');
  }
  const parsed = parsePhoneNumberFromString(trimmed, policy.defaultRegion);
  if (parsed === undefined || !parsed.isValid()) {
    const international = trimmed.startsWith('+');
    if (international || policy.defaultRegion !== undefined || policy.allowedCountries !== undefined) {
      throw new AppError('INVALID_VALUE', `'${trimmed}' is not a valid mobile number`);
    }
    return { e164: null, country: null };
  }
  const type = parsed.getType();
  if (type !== undefined && REFUSED_TYPES.has(type)) {
    throw new AppError('INVALID_VALUE', `'${trimmed}' cannot receive SMS (${type.toLowerCase().replaceAll('_', ' ')})`);
  }
  const country = parsed.country ?? null;
  if (policy.allowedCountries !== undefined && (country === null || !policy.allowedCountries.has(country))) {
    throw new AppError('INVALID_VALUE', `SMS to ${country ?? 'this destination'} are not allowed by this server`);
  }
  return { e164: parsed.number, country };
}

/** The key two spellings of one number share: E.164 where it can be worked out, else the digits. */
export function numberKey(number: string, policy: DestinationPolicy): string {
  const parsed = parsePhoneNumberFromString(number.trim(), policy.defaultRegion);
  if (parsed?.isValid()) return parsed.number;
  return number.replace(/[^0-9+]/g, '');
}

/** Two spellings of one number (`+94 77 123 4567`, `0771234567` with region LK) are the same number. */
export function sameNumberUnder(policy: DestinationPolicy): (a: string, b: string) => boolean {
  return (a, b) => a === b || numberKey(a, policy) === numberKey(b, policy);
}
