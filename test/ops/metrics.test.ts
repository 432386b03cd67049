import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, createUser } from '../support/test-app.js';
import {
  codeIn,
  replaceMobile,
  startVerificationApp,
  type VerificationTestApp,
} from '../support/verification-helpers.js';

const METRICS_TOKEN = 'scraper-token-0123456789abcdef';
const ME_VALIDATE = '/api/identity/user/v1.0/me/validate-code';

/** The value of one sample line, e.g. `sms_queued_total 1`; undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let testApp: VerificationTestApp;
  const scrape = async (authorization = `Bearer ${METRICS_TOKEN}`) => {
    const response = await testApp.app.inject({ method: 'GET', url: '/metrics', headers: { authorization } });
    expect(response.statusCode, response.body).toBe(200);
    return response.body;
  };

  beforeAll(async () => {
    testApp = await startVerificationApp({ env: { METRICS_TOKEN, VERIFICATION_REQUESTS_PER_IP_PER_HOUR: '4' } });
  });
  afterAll(async () => testApp.close());

  it('is for administrators and the METRICS_TOKEN bearer only', async () => {
    const bob = await createUser(testApp, 'metrics-bob');
    const statusWith = async (authorization?: string) =>
      (
        await testApp.app.inject({
          method: 'GET',
          url: '/metrics',
          headers: authorization === undefined ? {} : { authorization },
        })
      ).statusCode;
    expect(await statusWith()).toBe(401);
    expect(await statusWith(bob.auth)).toBe(403);
    expect(await statusWith('Bearer wrong-token-0123456789abcdef')).toBe(401);
    expect(await statusWith(testApp.adminAuth)).toBe(200);
    const response = await testApp.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toContain('# TYPE http_request_duration_seconds histogram');
    expect(response.body).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/metrics",status_code="401"\} [1-9]/,
    );
  });

  it('counts SMS, outbox depth, verification steps and rate-limit refusals', async () => {
    const alice = await createUser(testApp, 'metrics-alice', {
      phoneNumbers: [{ type: 'mobile', value: '+94771110000' }],
    });
    const changed = await testApp.patch(testApp.adminAuth, `/scim2/Users/${alice.id}`, [replaceMobile('+94772220000')]);
    expect(changed.statusCode).toBe(200);

    let text = await scrape();
    expect(sample(text, 'sms_queued_total')).toBe(1);
    expect(sample(text, 'sms_outbox_depth')).toBe(1);
    expect(sample(text, 'verifications_total{step="started"}')).toBe(1);
    // The pool figures exist where there is a pool (PostgreSQL); PGlite has none.
    const waiting = sample(text, 'db_pool_connections{state="waiting"}');
    if (testApp.database.handle.kind === 'postgres') expect(waiting).toBeGreaterThanOrEqual(0);
    else expect(waiting).toBeUndefined();

    const [sms] = await testApp.deliver();
    text = await scrape();
    expect(sample(text, 'sms_deliveries_total{provider="custom",outcome="sent"}')).toBe(1);
    expect(sample(text, 'sms_outbox_depth')).toBe(0);
    expect(sample(text, 'sms_outbox_oldest_due_age_seconds')).toBe(0);

    const wrong = await testApp.post(alice.auth, ME_VALIDATE, { code: 'ZZZZZZ', properties: [] });
    expect(wrong.statusCode).toBe(400);
    const right = await testApp.post(alice.auth, ME_VALIDATE, { code: codeIn(sms?.content ?? ''), properties: [] });
    expect(right.statusCode).toBe(202);
    text = await scrape();
    expect(sample(text, 'verifications_total{step="failed"}')).toBe(1);
    expect(sample(text, 'verifications_total{step="verified"}')).toBe(1);

    // The per-IP limit is 4 validate/resend requests an hour here: two more pass the limiter, then 429.
    let refused = 0;
    for (let index = 0; index < 4; index += 1) {
      const response = await testApp.post(basicAuth('metrics-alice', 'metrics-alice-password'), ME_VALIDATE, {
        code: '000000',
        properties: [],
      });
      if (response.statusCode === 429) refused += 1;
    }
    expect(refused).toBeGreaterThan(0);
    text = await scrape();
    expect(sample(text, `rate_limit_refusals_total{route="${ME_VALIDATE}"}`)).toBe(refused);
  });
});
