// Builds the browser applications (web/console, web/myaccount) with Vite into dist/web/<name>.
// Each is built on its own, so each ships only its own code and its size can be checked alone.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = path.resolve(import.meta.dirname, '..');
export const WEB_APPS = ['console', 'myaccount'];
/** The budget: the JavaScript of each application under 150 KB gzipped. */
const GZIP_BUDGET = 150 * 1024;

function gzippedJs(dir) {
  let total = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    if (item.isDirectory()) total += gzippedJs(full);
    else if (item.name.endsWith('.js')) total += gzipSync(readFileSync(full)).length;
  }
  return total;
}

for (const name of WEB_APPS) {
  const outDir = path.join(root, 'dist/web', name);
  await build({
    configFile: false,
    root: path.join(root, 'web', name),
    base: `/${name}/`,
    publicDir: false,
    logLevel: 'warn',
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: { outDir, emptyOutDir: true, modulePreload: { polyfill: false }, sourcemap: false, target: 'es2022' },
  });
  const size = gzippedJs(outDir);
  process.stdout.write(`web/${name}: ${(size / 1024).toFixed(1)} KB of JavaScript gzipped\n`);
  if (size > GZIP_BUDGET) throw new Error(`web/${name} is over its ${GZIP_BUDGET / 1024} KB gzip budget`);
}
