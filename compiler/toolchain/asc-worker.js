// Runs asc in a worker thread (plain JS: the worker has no TypeScript loader). The CLI runs
// under tsx, whose module hooks would pass assemblyscript's and binaryen's 14 MB of JavaScript
// through the loader on every first build: about 9 s on a 2-core machine, against 0.6 s here.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import asc from 'assemblyscript/asc';
import { createReflexTransform } from './transform.js';

const { supportLibraryDir, entry } = workerData;

// The stub runtime, swapped for ours (runtime.ts: the arena's top in memory, for the heap
// module). Swapped rather than named with --runtime, which would compile for a collector.
asc.libraryFiles['rt/index-stub'] = await readFile(join(supportLibraryDir, 'runtime.ts'), 'utf8');

async function compile({ source, args, options }) {
  let binary = null;
  const errors = [];
  const { error } = await asc.main(args, {
    readFile: async (name, baseDir) => {
      if (name === entry) return source;
      if (options.files?.[name] !== undefined) return options.files[name];
      try {
        return await readFile(join(baseDir ?? supportLibraryDir, name), 'utf8');
      } catch {
        return null;
      }
    },
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
    listFiles: () => [],
    stdout: { write: () => true },
    stderr: { write: (chunk) => (errors.push(String(chunk)), true) },
    transforms: [createReflexTransform(options)],
  });
  return { binary, error: error ? error.message : binary ? null : 'no output', stderr: errors.join('').trim() };
}

parentPort.on('message', async ({ id, job }) => {
  try {
    const result = await compile(job);
    parentPort.postMessage({ id, ...result }, result.binary ? [result.binary.buffer] : []);
  } catch (error) {
    parentPort.postMessage({ id, binary: null, error: String(error?.stack ?? error), stderr: '' });
  }
});
