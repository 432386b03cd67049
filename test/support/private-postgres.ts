import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

const BIN = process.env.POSTGRES_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/**
 * Why a private PostgreSQL cannot run here, or undefined when it can. Fault tests stop and freeze their
 * own server; the machine's shared PostgreSQL on 5432 is never touched.
 */
export function privatePostgresUnavailable(): string | undefined {
  for (const binary of ['initdb', 'postgres']) {
    if (!existsSync(path.join(BIN, binary))) return `${path.join(BIN, binary)} not found`;
  }
  return undefined;
}

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** SIGSTOP to the postmaster and every backend: the server hangs, connections stay open. */
  freeze(): void;
  thaw(): void;
  /** Immediate shutdown (like a crash of the database); `start()` brings it back on the same port and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** initdb + postgres in a temp dir on a free loopback port, as the `postgres` OS user when run as root. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'scim-private-pg-'));
  const dataDir = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? userIds('postgres') : undefined;
  if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
  const run = (binary: string, args: string[]) =>
    asRoot
      ? { command: 'runuser', args: ['-u', 'postgres', '--', path.join(BIN, binary), ...args] }
      : { command: path.join(BIN, binary), args };

  const initdb = run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  execFileSync(initdb.command, initdb.args, { stdio: 'ignore' });
  const port = await freePort();
  let server: ChildProcess | undefined;
  let frozen: number[] = [];

  async function start(): Promise<void> {
    const postgres = run('postgres', [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=60',
    ]);
    const log = openSync(path.join(dir, 'postgres.log'), 'a');
    const child = spawn(postgres.command, postgres.args, { stdio: ['ignore', log, log] });
    server = child;
    await waitUntilAccepting(url, child);
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await start();

  function postmasterPid(): number {
    const firstLine = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '';
    return Number.parseInt(firstLine, 10);
  }

  async function stop(): Promise<void> {
    const child = server;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(postmasterPid(), 'SIGQUIT');
    await exited;
    server = undefined;
  }

  return {
    url,
    freeze() {
      frozen = processTree(postmasterPid());
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thaw() {
      // Whatever was frozen, anything forked meanwhile, and runuser: it stops itself when its child stops.
      const wrapper = server?.pid === undefined ? [] : [server.pid];
      for (const pid of new Set([...frozen, ...processTree(postmasterPid()), ...wrapper])) signal(pid, 'SIGCONT');
      frozen = [];
    },
    stop,
    start,
    async close() {
      try {
        for (const pid of frozen) signal(pid, 'SIGCONT');
        await stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // It exited meanwhile.
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** The process and all its descendants, from /proc. */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), parent);
    } catch {
      // The process ended while we looked.
    }
  }
  const tree = [root];
  for (let index = 0; index < tree.length; index++) {
    for (const [pid, parent] of parents) if (parent === tree[index]) tree.push(pid);
  }
  return tree;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitUntilAccepting(url: string, child: ChildProcess): Promise<void> {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(exited ? 'private PostgreSQL exited during start' : 'private PostgreSQL did not start');
}
