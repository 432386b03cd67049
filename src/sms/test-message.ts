import type { Db } from '../db/executor.js';
import type { Clock } from '../shared/clock.js';
import { checkDestination, type DestinationPolicy } from '../verification/destination-policy.js';
import { enqueueSms } from './outbox-repository.js';

export const TEST_SMS_PURPOSE = 'test';
export const TEST_SMS_TEXT = 'Test message from your SCIM identity server: the SMS provider works.';

export interface TestSmsDeps {
  db: Db;
  clock: Clock;
  destinations: DestinationPolicy;
  /** Seals the queued text (src/sms/sms-body.ts). */
  bodyKey: Buffer;
  onSmsQueued: () => void;
}

/** "Send test SMS": one fixed text, through the outbox and the active provider like every other message. */
export async function sendTestSms(deps: TestSmsDeps, number: string): Promise<{ deliveryId: string }> {
  const destination = checkDestination(number, deps.destinations);
  const deliveryId = await enqueueSms(deps.db, deps.bodyKey, {
    userId: null,
    purpose: TEST_SMS_PURPOSE,
    to: destination.e164 ?? number.trim(),
    body: TEST_SMS_TEXT,
    now: deps.clock.now(),
  });
  deps.onSmsQueued();
  return { deliveryId };
}
