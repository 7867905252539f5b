import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ToolchainError } from '../../common/errors.ts';
import { packStaticData } from './pack-data.ts';

/** The AssemblyScript support library that generated reflexes import. */
export const SUPPORT_LIBRARY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../assembly');
const ENTRY = '__reflex__.ts';

export interface AscOptions {
  /** Export renames applied after compilation (AS names -> component-model names). */
  renames: Record<string, string>;
  /** Exports that refill the fuel meter on entry. */
  meteredExports: string[];
  fuelBudget: number;
  /** Linear memory cap in 64 KiB pages. */
  maxMemoryPages: number;
  /** In-memory files that shadow files of the support library (tests compile fixtures this way). */
  files?: Record<string, string>;
}

interface WorkerReply {
  id: number;
  binary: Uint8Array | null;
  error: string | null;
  stderr: string;
}

let worker: Worker | null = null;
let nextId = 0;
const pending = new Map<number, { resolve(reply: WorkerReply): void; reject(error: Error): void }>();

/** One asc worker per process, started on first use and kept for later builds (`--watch`). */
function ascWorker(): Worker {
  if (worker) return worker;
  const started = new Worker(new URL('./asc-worker.js', import.meta.url), { workerData: { supportLibraryDir: SUPPORT_LIBRARY_DIR, entry: ENTRY } });
  started.on('message', (reply: WorkerReply) => {
    pending.get(reply.id)?.resolve(reply);
    pending.delete(reply.id);
    // An idle worker must not keep a finished command alive.
    if (pending.size === 0) started.unref();
  });
  const fail = (error: Error) => {
    worker = null;
    for (const job of pending.values()) job.reject(new ToolchainError(`the AssemblyScript compiler stopped: ${error.message}`));
    pending.clear();
  };
  started.on('error', fail);
  started.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  worker = started;
  return started;
}

/**
 * Compiles one generated AssemblyScript entry (plus the support library) to a core module.
 * The entry lives in memory, everything else is read from disk. The module's static data comes
 * out packed (pack-data.ts).
 */
export async function compileAssemblyScript(source: string, options: AscOptions): Promise<Uint8Array> {
  const args = [
    ENTRY,
    '--outFile', 'out.wasm',
    '--runtime', 'stub',
    '--use', 'abort=',
    '--optimizeLevel', '2',
    '--shrinkLevel', '2',
    '--noAssert',
    // When optimizing, asc leaves the first 1 KB unused by default; that pushed every shipped
    // reflex's static data past 4 KB, so each new instance touched two memory pages, not one
    // (50,000 instances: 1,000 MB RSS against 764 MB). Speed and size did not change measurably.
    '--memoryBase', '16',
    '--initialMemory', '1',
    '--maximumMemory', String(options.maxMemoryPages),
    '--baseDir', SUPPORT_LIBRARY_DIR,
  ];
  const compiler = ascWorker();
  const id = nextId++;
  compiler.ref();
  const reply = await new Promise<WorkerReply>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    compiler.postMessage({ id, job: { source, args, options } });
  });
  if (reply.error || !reply.binary) {
    throw new ToolchainError(`AssemblyScript compilation failed: ${reply.error ?? 'no output'}\n${reply.stderr}`);
  }
  return packStaticData(reply.binary);
}
