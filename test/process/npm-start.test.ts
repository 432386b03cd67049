import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface NpmStart {
  npm: ChildProcess;
  output: () => string;
  baseUrl: string;
  serverPid: number;
}

/** `npm start` as an operator runs it, in its own process group (as a terminal would). */
async function npmStart(dataDir: string): Promise<NpmStart> {
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', DATA_DIR: dataDir },
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  npm.stdout?.on('data', collect);
  npm.stderr?.on('data', collect);
  const baseUrl = await new Promise<string>((resolve, reject) => {
    // A stale dist/ is rebuilt first (tsc), which takes a while on a busy machine.
    const timer = setTimeout(() => reject(new Error(`npm start did not listen:\n${output}`)), 180_000);
    npm.stdout?.on('data', () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    npm.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  const serverPid = Number(execFileSync('ps', ['-o', 'pid=', '--ppid', String(npm.pid)], { encoding: 'utf8' }).trim());
  return { npm, output: () => output, baseUrl, serverPid };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilGone(pids: number[], ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`still running: ${pids.filter(alive).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', { timeout: 300_000 }, () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'scim-npm-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is one process to stop: SIGTERM to npm stops the server gracefully, nothing is left behind', async () => {
    const started = await npmStart(dataDir);
    // The server is npm's direct child: no shell in between whose death would orphan it.
    expect(execFileSync('ps', ['-o', 'args=', '-p', String(started.serverPid)], { encoding: 'utf8' })).toContain(
      'scripts/start.mjs',
    );
    expect((await fetch(`${started.baseUrl}/health`)).status).toBe(200);
    const npmPid = started.npm.pid ?? 0;
    process.kill(npmPid, 'SIGTERM');
    await waitUntilGone([npmPid, started.serverPid]);
    expect(groupAlive(npmPid)).toBe(false);
    expect(started.output()).toMatch(/"signal":"SIGTERM".*shutting down/);
    expect(started.output()).toContain('"msg":"stopped"');
  });

  it('treats Ctrl-C (SIGINT to the process group, forwarded again by npm) as one graceful stop', async () => {
    const started = await npmStart(dataDir);
    const npmPid = started.npm.pid ?? 0;
    process.kill(-npmPid, 'SIGINT');
    // And once more directly, while the first stop is under way: still graceful, no immediate exit.
    process.kill(started.serverPid, 'SIGTERM');
    await waitUntilGone([npmPid, started.serverPid]);
    expect(groupAlive(npmPid)).toBe(false);
    expect(started.output()).toContain('shutting down');
    expect(started.output()).toContain('"msg":"stopped"');
    expect(started.output()).not.toContain('exiting now');
  });

  it('stops the server when npm itself is killed without forwarding a signal', async () => {
    const started = await npmStart(dataDir);
    process.kill(started.npm.pid ?? 0, 'SIGKILL');
    await waitUntilGone([started.serverPid]);
    expect(started.output()).toContain('"msg":"stopped"');
  });
});
