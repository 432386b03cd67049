const MASK = '********';

/**
 * A phone number safe for logs: the leading `+` and the last few digits, so operators can tell
 * numbers apart without the log holding them. The mask has a fixed width so it hides the length too.
 */
export function maskPhoneNumber(n: string): string {
  const prefix = n.trimStart().startsWith('+') ? '+' : '';
  const digits = n.replace(/\D/g, '');
  return `${prefix}${MASK}${digits.slice(digits.length - visibleDigits(digits.length))}`;
}

function visibleDigits(length: number): number {
  if (length >= 10) return 4;
  if (length >= 7) return 3;
  // Short numbers (short codes, typos) would be nearly fully revealed by a fixed tail.
  return Math.floor(length / 4);
}

/** Seven or more digits, possibly with + ( ) - or spaces between them, not inside a word or an id. */
const NUMBER_IN_TEXT = /(?<![\w-])\+?\d(?:[ ()-]*\d){6,}(?![\w-])/g;

/** Free text (a log message, a URL) with every phone-number-like run masked as maskPhoneNumber does. */
export function maskNumbersIn(text: string): string {
  return text.replace(NUMBER_IN_TEXT, (match) => maskPhoneNumber(match));
}
