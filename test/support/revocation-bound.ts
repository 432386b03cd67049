import { performance } from 'node:perf_hooks';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/** AUTH_REVOCATION_MAX_DELAY_MS's default: how late another instance may still accept a revoked credential. */
export const REVOCATION_BOUND_MS = 2000;
/** How long past the bound a test keeps asking before it gives up (a loaded machine answers slowly). */
const GIVE_UP_AFTER_MS = 10_000;

/**
 * Sends `request` again and again from `since` (when the revoking change had answered, so had committed)
 * until it is refused, and asserts that it was refused with `status` and that no request sent more than
 * `boundMs` after `since` was accepted: the documented bound, with no sleep in between.
 */
export async function expectRefusedWithin(
  request: () => Promise<LightMyRequestResponse>,
  since: number,
  status = 401,
  boundMs = REVOCATION_BOUND_MS,
): Promise<LightMyRequestResponse> {
  let lastAcceptedAt: number | undefined;
  for (;;) {
    const sentAt = performance.now();
    const response = await request();
    if (response.statusCode < 200 || response.statusCode >= 300) {
      expect(response.statusCode, response.body).toBe(status);
      if (lastAcceptedAt !== undefined) expect(lastAcceptedAt - since).toBeLessThan(boundMs);
      return response;
    }
    lastAcceptedAt = sentAt;
    expect(sentAt - since, 'still accepted long after the bound').toBeLessThan(boundMs + GIVE_UP_AFTER_MS);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
