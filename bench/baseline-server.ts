/**
 * The baseline of `npm run bench`: a bare Fastify route serving BENCH_BODY (the real JSON of one user) as
 * application/scim+json, in its own process like the SCIM server, so both are measured the same way.
 */
import Fastify from 'fastify';
import type { ServerMessage } from './protocol.js';

const body = process.env.BENCH_BODY ?? '{}';
const app = Fastify({ logger: false });
app.get('/user', async (_request, reply) => reply.type('application/scim+json').send(body));
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const ready: ServerMessage = { type: 'ready', url, ids: [], groups: undefined, seedSeconds: 0 };
process.send?.(ready);
process.on('disconnect', () => {
  void app.close().finally(() => process.exit(0));
});
