import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, uniqueName } from '../support/test-app.js';
import {
  codeIn,
  replaceMobile,
  startVerificationApp,
  type VerificationTestApp,
} from '../support/verification-helpers.js';

/** Issue #11 point 6a: a queued SMS does not hold its code in plaintext; it is erased once done with. */
describe('queued SMS texts at rest', () => {
  let t: VerificationTestApp;

  beforeAll(async () => {
    t = await startVerificationApp();
  });
  afterAll(async () => t.close());

  const outboxOf = (userId: string) =>
    t.db.selectFrom('sms_outbox').selectAll().where('user_id', '=', userId).execute();

  it('the stored row never contains the code; the dispatcher sends the right text, then erases it', async () => {
    const user = await createUser(t, uniqueName('sealed'), { phoneNumbers: [{ type: 'mobile', value: '0711111111' }] });
    expect((await t.patch(user.auth, '/scim2/Me', [replaceMobile('0722222222')])).statusCode).toBe(200);
    const [queued] = await outboxOf(user.id);
    expect(queued).toMatchObject({ state: 'queued', body: null });
    expect(queued?.sealed_body).toEqual(expect.any(String));

    const [sms] = await t.deliver();
    const code = codeIn(sms?.content ?? '');
    expect(sms?.to).toBe('0722222222');
    expect(sms?.content).toMatch(/^Your mobile number verification code is [0-9]+/);
    expect(JSON.stringify(queued)).not.toContain(code);
    const [sent] = await outboxOf(user.id);
    expect(sent).toMatchObject({ state: 'sent', body: null, sealed_body: null });
    // And it is the code that works.
    const validated = await t.post(user.auth, '/api/identity/user/v1.0/me/validate-code', { code });
    expect(validated.statusCode).toBe(202);
  });

  it('an undelivered text is erased when its code expires', async () => {
    const user = await createUser(t, uniqueName('expiring'), {
      phoneNumbers: [{ type: 'mobile', value: '0711111111' }],
    });
    expect((await t.patch(user.auth, '/scim2/Me', [replaceMobile('0733333333')])).statusCode).toBe(200);
    t.clock.advance(301_000);
    expect(await t.deliver()).toEqual([]);
    const [expired] = await outboxOf(user.id);
    expect(expired).toMatchObject({ state: 'expired', body: null, sealed_body: null });
  });

  it('a sealed text copied onto another row (another number) does not open: nothing is sent', async () => {
    const user = await createUser(t, uniqueName('moved'), { phoneNumbers: [{ type: 'mobile', value: '0711111111' }] });
    expect((await t.patch(user.auth, '/scim2/Me', [replaceMobile('0744444444')])).statusCode).toBe(200);
    const [original] = await outboxOf(user.id);
    await t.db
      .updateTable('sms_outbox')
      .set({ to_number: '0799999999' })
      .where('id', '=', original?.id ?? '')
      .execute();
    expect(await t.deliver()).toEqual([]);
    const [failed] = await outboxOf(user.id);
    expect(failed).toMatchObject({
      state: 'failed',
      sealed_body: null,
      last_error: expect.stringMatching(/decrypted/),
    });
  });

  it('a message queued in plaintext before texts were sealed is still sent, then erased', async () => {
    const id = randomUUID();
    const now = t.clock.now();
    await t.db
      .insertInto('sms_outbox')
      .values({
        id,
        user_id: null,
        purpose: 'test',
        to_number: '+94771234567',
        body: 'Your verification code is 424242',
        state: 'queued',
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      })
      .execute();
    expect(await t.deliver()).toEqual([{ to: '+94771234567', content: 'Your verification code is 424242' }]);
    const row = await t.db.selectFrom('sms_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'sent', body: null, sealed_body: null });
  });
});
