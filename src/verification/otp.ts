import { randomInt } from 'node:crypto';
import { constantTimeEqual, hmacHex } from '../shared/crypto.js';

export type OtpCharset = 'numeric' | 'alphanumeric';

const DIGITS = '0123456789';
// WSO2's unambiguous set: no I, O, Q, i, l, o, and no zero once letters are in play.
const ALPHANUMERIC = 'ABCDEFGHJKLMNPRSTUVWXYZabcdefghjkmnpqrstuvwxyz123456789';

/** A uniformly random code from a CSPRNG. */
export function generateCode(length: number, charset: OtpCharset): string {
  const alphabet = charset === 'numeric' ? DIGITS : ALPHANUMERIC;
  let code = '';
  for (let index = 0; index < length; index++) code += alphabet.charAt(randomInt(alphabet.length));
  return code;
}

export interface CodeBinding {
  userId: string;
  scenario: string;
  number: string;
}

/** The stored hash: bound to the user, the scenario and the exact number the code was sent to. */
export function codeHmac(key: Buffer, binding: CodeBinding, code: string): string {
  return hmacHex(key, 'code-v1', binding.userId, binding.scenario, binding.number, code);
}

/** A second keyed hash of the code alone: privileged validation finds the user by code, as WSO2 does. */
export function lookupHmac(key: Buffer, code: string): string {
  return hmacHex(key, 'lookup-v1', code);
}

export function codeMatches(key: Buffer, binding: CodeBinding, code: string, storedHmac: string): boolean {
  return constantTimeEqual(codeHmac(key, binding, code), storedHmac);
}
