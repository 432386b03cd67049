import type { SmsOutboxRow } from '../db/database.js';
import { decryptText, encryptText } from '../shared/crypto.js';

/**
 * A queued SMS text carries a live code, so it is stored sealed (AES-256-GCM, key derived from SECRET_KEY,
 * HKDF label sms-outbox-body-v1) and bound to its row and destination: a sealed text copied onto another row,
 * or onto another number, does not open. Only the dispatcher opens it, at send time.
 */
export function sealSmsBody(key: Buffer, id: string, to: string, text: string): string {
  return encryptText(key, text, bindingOf(id, to));
}

/** The text to send; null when there is none. Rows queued before texts were sealed still have it in clear. */
export function openSmsBody(key: Buffer, row: Pick<SmsOutboxRow, 'id' | 'to_number' | 'body' | 'sealed_body'>) {
  if (row.sealed_body !== null) return decryptText(key, row.sealed_body, bindingOf(row.id, row.to_number));
  return row.body;
}

function bindingOf(id: string, to: string): string {
  return `sms_outbox:${id}:${to}`;
}
