import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Runs a TypeScript script in its own process, so load and servers do not share an event loop. */
export function spawnTs(script: string, args: string[] = []): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Clock ticks per second of /proc's CPU times (USER_HZ). */
let ticksPerSecond: number | undefined;

/**
 * CPU seconds (user and system, every thread) a process has used, from /proc; null off Linux.
 * Under load a server's CPU per request is a steadier measure of its own cost than latency,
 * which on a small VM moves with whatever else runs.
 */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return null;
  }
}

/**
 * Starts a server script that prints its URL on the first line of stdout. close() resolves once
 * the process has exited, so its teardown does not colour what runs next.
 */
export async function startServerProcess(script: string, args: string[] = []): Promise<{ url: string; cpuSeconds(): number | null; close(): Promise<void> }> {
  const child = spawnTs(script, args);
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim().split('\n')[0]));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    close: () => {
      child.kill();
      return exited;
    },
  };
}

/** Runs a script to completion and parses the JSON it prints. */
export async function runJson<T>(script: string, args: string[]): Promise<T> {
  const child = spawnTs(script, args);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return JSON.parse(out) as T;
}
