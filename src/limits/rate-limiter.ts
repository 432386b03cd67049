import { sql } from 'kysely';
import { deleteBatch } from '../db/delete-in-batches.js';
import type { Executor } from '../db/executor.js';

export interface LimitDecision {
  allowed: boolean;
  count: number;
  /** Seconds until the current window ends. */
  retryAfterSeconds: number;
  /** The window this hit was counted in (for giveBackHit). */
  windowStart: Date;
}

/**
 * Fixed-window counter kept in PostgreSQL, so a limit holds across every instance.
 * The increment is one upsert: concurrent hits on one bucket serialise on its row.
 */
export async function hitLimit(
  db: Executor,
  bucket: string,
  windowSeconds: number,
  limit: number,
  now: Date,
): Promise<LimitDecision> {
  const [decision] = await hitLimits(db, [{ bucket, limit }], windowSeconds, now);
  if (decision === undefined) throw new Error(`no count for ${bucket}`);
  return decision;
}

/** One hit on each of several buckets (distinct) sharing a window length, in one statement; decisions in order. */
export async function hitLimits(
  db: Executor,
  hits: readonly { bucket: string; limit: number }[],
  windowSeconds: number,
  now: Date,
): Promise<LimitDecision[]> {
  const windowMs = windowSeconds * 1000;
  const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
  const windowEnd = new Date(windowStart.getTime() + windowMs);
  const rows = await db
    .insertInto('rate_limit_counters')
    .values(hits.map(({ bucket }) => ({ bucket, window_start: windowStart, count: 1, expires_at: windowEnd })))
    .onConflict((conflict) =>
      conflict.columns(['bucket', 'window_start']).doUpdateSet({ count: sql`rate_limit_counters.count + 1` }),
    )
    .returning(['bucket', 'count'])
    .execute();
  const counts = new Map(rows.map((row) => [row.bucket, row.count]));
  const retryAfterSeconds = Math.max(1, Math.ceil((windowEnd.getTime() - now.getTime()) / 1000));
  return hits.map(({ bucket, limit }) => {
    const count = counts.get(bucket) ?? Number.POSITIVE_INFINITY;
    return { allowed: count <= limit, count, retryAfterSeconds, windowStart };
  });
}

/** Takes one hit back from the window it was counted in: for limits that count only what failed. */
export async function giveBackHit(db: Executor, bucket: string, windowStart: Date): Promise<void> {
  await db
    .updateTable('rate_limit_counters')
    .set({ count: sql`count - 1` })
    .where('bucket', '=', bucket)
    .where('window_start', '=', windowStart)
    .where('count', '>', 0)
    .execute();
}

/** Counters of ended windows are useless; housekeeping deletes them, `limit` at a time. */
export async function deleteExpiredCounters(db: Executor, now: Date, limit: number): Promise<number> {
  return deleteBatch(db, 'rate_limit_counters', sql`expires_at < ${now}`, limit);
}
