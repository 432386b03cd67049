import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ParentMessage, SeededGroups, ServerMessage, ServerSpec } from './protocol.js';

/** A server process forked by the bench, and the questions it answers over IPC. */
export interface BenchServer {
  url: string;
  ids: string[];
  groups: SeededGroups | undefined;
  seedSeconds: number;
  rss(): Promise<number>;
  resetLoopDelay(): Promise<void>;
  /** The longest event-loop block (ms) since the last reset. */
  loopDelayMax(): Promise<number>;
  inbox(): Promise<{ to: string; body: string }[]>;
  stop(): Promise<void>;
}

export async function startServer(spec: ServerSpec, log: (line: string) => void): Promise<BenchServer> {
  return start('bench-server.ts', { BENCH_SERVER: JSON.stringify(spec) }, log);
}

/** `databaseUrl`: the seeded database, for the baseline that reads one user row per request. */
export async function startBaseline(body: string, databaseUrl: string): Promise<BenchServer> {
  return start('baseline-server.ts', { BENCH_BODY: body, BENCH_BASELINE_DATABASE_URL: databaseUrl }, () => undefined);
}

async function start(script: string, env: Record<string, string>, log: (line: string) => void): Promise<BenchServer> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), {
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []),
    ],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<ServerMessage['type'], (message: ServerMessage) => void>();
  child.on('message', (message: ServerMessage) => {
    if (message.type === 'log') log(message.line);
    waiting.get(message.type)?.(message);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  exited.catch(() => undefined);
  const next = <T extends ServerMessage['type']>(type: T) =>
    Promise.race([
      new Promise<Extract<ServerMessage, { type: T }>>((resolve) => {
        waiting.set(type, (message) => {
          waiting.delete(type);
          resolve(message as Extract<ServerMessage, { type: T }>);
        });
      }),
      exited,
    ]);
  const ask = <T extends ParentMessage['type']>(type: T) => {
    const answer = next(type);
    child.send({ type } satisfies ParentMessage);
    return answer;
  };
  const ready = await next('ready');
  return {
    url: ready.url,
    ids: ready.ids,
    groups: ready.groups,
    seedSeconds: ready.seedSeconds,
    rss: async () => (await ask('rss')).bytes,
    resetLoopDelay: async () => void (await ask('loop-reset')),
    loopDelayMax: async () => (await ask('loop-max')).ms,
    inbox: async () => (await ask('inbox')).messages,
    stop: () => stop(child),
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
