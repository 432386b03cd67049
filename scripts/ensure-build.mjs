// `npm start` on a fresh clone: compile once if dist/ is missing or older than the sources, and build the
// browser applications (Console, My Account) the same way; each build says so and how long it took.
// Run on its own (`node scripts/ensure-build.mjs`; `--web-only`: just the applications, for the tests) or
// imported by scripts/start.mjs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const entry = path.join(root, 'dist/src/server.js');
const webOnly = process.argv.includes('--web-only');

function newestMtime(dir) {
  let newest = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    const time = item.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    newest = Math.max(newest, time);
  }
  return newest;
}

const mtimeOf = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);

function timedBuild(announcement, args) {
  process.stdout.write(`${announcement}\n`);
  const started = performance.now();
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  process.stdout.write(`Built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

if (!webOnly) {
  const sourcesTime = Math.max(newestMtime(path.join(root, 'src')), newestMtime(path.join(root, 'migrations')));
  if (!existsSync(entry) || statSync(entry).mtimeMs < sourcesTime) {
    timedBuild('Building (tsc): dist/ is missing or older than src/ ...', [
      path.join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
    ]);
  }
}

const webTime = Math.max(newestMtime(path.join(root, 'web')), mtimeOf(path.join(root, 'scripts/build-web.mjs')));
const builtTime = Math.min(
  ...['console', 'myaccount'].map((name) => mtimeOf(path.join(root, 'dist/web', name, 'index.html'))),
);
if (builtTime < webTime) {
  timedBuild('Building the Console and My Account (vite) ...', [path.join(root, 'scripts/build-web.mjs')]);
}
