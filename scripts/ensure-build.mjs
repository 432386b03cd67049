// `npm start` on a fresh clone: compile once if dist/ is missing or older than the sources, and build the
// browser applications (Console, My Account) the same way. `--web-only`: just the applications (the tests).
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

if (!webOnly) {
  const sourcesTime = Math.max(newestMtime(path.join(root, 'src')), newestMtime(path.join(root, 'migrations')));
  if (!existsSync(entry) || statSync(entry).mtimeMs < sourcesTime) {
    process.stdout.write('Building (tsc)...\n');
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
}

const webTime = Math.max(newestMtime(path.join(root, 'web')), mtimeOf(path.join(root, 'scripts/build-web.mjs')));
const builtTime = Math.min(
  ...['console', 'myaccount'].map((name) => mtimeOf(path.join(root, 'dist/web', name, 'index.html'))),
);
if (builtTime < webTime) {
  process.stdout.write('Building the Console and My Account (vite)...\n');
  execFileSync(process.execPath, [path.join(root, 'scripts/build-web.mjs')], { cwd: root, stdio: 'inherit' });
}
