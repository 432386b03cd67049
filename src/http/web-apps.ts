import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { permit } from '../auth/permissions.js';

/** The browser applications, each built by Vite into dist/web/<name> (`npm run build`). */
export const WEB_APPS = ['console', 'myaccount'] as const;

/** Scripts, styles and API calls from this origin only; no inline code; never framed. */
export const WEB_APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The repository root: the first ancestor with a package.json (from src/ under tsx, from dist/src/ when built). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the server code');
    dir = parent;
  }
  return dir;
}

export const WEB_DIST_DIR = path.join(packageRoot(), 'dist', 'web');

/** The applications are static files anyone may load; every API call they make carries its own token. */
const PUBLIC = { permission: permit.public('the browser applications (static files; they sign in through /oauth2)') };

/**
 * Serves /console/ and /myaccount/ through @fastify/static's sendFile, from routes of our own so that each
 * declares its permission like every other route; an application not built yet answers 503 saying so.
 */
export async function webAppRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', WEB_APP_CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });
  await app.register(fastifyStatic, {
    root: WEB_DIST_DIR,
    serve: false,
    setHeaders: (reply, file) => {
      // Hashed file names never change; the page itself must be revalidated to pick up a new build.
      const immutable = file.includes(`${path.sep}assets${path.sep}`);
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  for (const name of WEB_APPS) {
    const root = path.join(WEB_DIST_DIR, name);
    const built = existsSync(path.join(root, 'index.html'));
    const options = { config: PUBLIC, schema: { hide: true } };
    const serve = async (file: string, reply: FastifyReply) => {
      if (!built) {
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send(`The ${name} application is not built: run "npm run build" (npm start builds it when needed).`);
      }
      return reply.sendFile(file === '' || file.endsWith('/') ? `${file}index.html` : file, root);
    };
    // The router ignores a trailing slash, so `/name/` arrives here too: only `/name` itself is redirected,
    // because the page's relative asset URLs need the slash.
    app.get(`/${name}`, options, async (request, reply) => {
      const query = request.url.indexOf('?');
      const pathname = query === -1 ? request.url : request.url.slice(0, query);
      if (pathname.endsWith('/')) return serve('', reply);
      return reply.redirect(`/${name}/${query === -1 ? '' : request.url.slice(query)}`, 301);
    });
    app.get<{ Params: { '*': string } }>(`/${name}/*`, options, async (request, reply) =>
      serve(request.params['*'], reply),
    );
  }
}
