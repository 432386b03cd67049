import type pg from 'pg';

/** Until another backend of `client`'s database waits for a lock (one that `client`'s transaction holds). */
export async function waitForLockWaiter(client: pg.Client): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const { rows } = await client.query<{ waiting: string }>(
      `select count(*) as waiting from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
    );
    if (Number(rows[0]?.waiting) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no backend waited for the lock');
}
