import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The browser tests need the built Console and My Account: build them once when missing or stale. */
export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '../..');
  execFileSync(process.execPath, [path.join(root, 'scripts/ensure-build.mjs'), '--web-only'], {
    cwd: root,
    stdio: 'inherit',
  });
}
