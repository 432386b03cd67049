// `npm start` on a fresh clone: compile once if dist/ is missing or older than the sources.
// Run on its own (`node scripts/ensure-build.mjs`) or imported by scripts/start.mjs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const entry = path.join(root, 'dist/src/server.js');

function newestMtime(dir) {
  let newest = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    const time = item.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    newest = Math.max(newest, time);
  }
  return newest;
}

const sourcesTime = Math.max(newestMtime(path.join(root, 'src')), newestMtime(path.join(root, 'migrations')));
if (!existsSync(entry) || statSync(entry).mtimeMs < sourcesTime) {
  process.stdout.write('Building (tsc): dist/ is missing or older than src/ ...\n');
  const started = performance.now();
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  process.stdout.write(`Built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
