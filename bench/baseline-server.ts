/**
 * The baselines of `npm run bench`, in their own process like the SCIM server, so both are measured the same
 * way: a bare Fastify route serving BENCH_BODY (the real JSON of one user) as application/scim+json; and, when
 * BENCH_BASELINE_DATABASE_URL names the seeded database, the same answer after one indexed select of the
 * user's row through a pg pool of the server's size (a prepared statement): what any request that makes one
 * round trip to PostgreSQL can reach on this machine.
 */
import Fastify from 'fastify';
import pg from 'pg';
import type { ServerMessage } from './protocol.js';

const body = process.env.BENCH_BODY ?? '{}';
const databaseUrl = process.env.BENCH_BASELINE_DATABASE_URL;
const pool = databaseUrl === undefined ? undefined : new pg.Pool({ connectionString: databaseUrl, max: 10 });
const app = Fastify({ logger: false });
app.get('/user', async (_request, reply) => reply.type('application/scim+json').send(body));
app.get<{ Params: { id: string } }>('/user-row/:id', async (request, reply) => {
  const result = await pool?.query({
    name: 'baseline_user_row',
    text: 'select * from users where id = $1',
    values: [request.params.id],
  });
  if (result?.rowCount !== 1) return reply.code(404).send();
  return reply.type('application/scim+json').send(body);
});
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const ready: ServerMessage = { type: 'ready', url, ids: [], groups: undefined, seedSeconds: 0 };
process.send?.(ready);
process.on('disconnect', () => {
  void app
    .close()
    .then(() => pool?.end())
    .finally(() => process.exit(0));
});
