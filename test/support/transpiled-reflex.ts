import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpile } from '@bytecodealliance/jco';
import * as shim from '@bytecodealliance/preview2-shim';
import { scratchProject } from './tmp.ts';

/**
 * Runs a reflex component through jco's transpiled glue (the component-model path, as opposed
 * to the host's raw core-module path). wasi:http and wasi:io come from preview2-shim; the
 * key-value store, variables and clock are small JS implementations the test controls.
 */
export interface GlueEnv {
  kv: Map<string, Uint8Array>;
  variables?: Map<string, string>;
  nowMs?: () => number;
  /** While true, every store call fails, as an unreachable Redis would. */
  storeDown?: () => boolean;
  /** Where requests to `<reflex>.spin.internal` go (host:port): see spinChainingFake. */
  chainTo?: string;
}

/**
 * A fake of Spin's service chaining, which cannot run here: Spin hands a request for
 * `http://<reflex>.spin.internal` to that component in-process; this sends it to `chainTo`
 * instead, as sent otherwise. Every other request goes out through preview2-shim as usual.
 */
function spinChainingFake(chainTo: string | undefined) {
  const real = shim.http.outgoingHandler;
  if (!chainTo) return real;
  return {
    handle(request: { authority(): string | undefined; setAuthority(a: string): void }, options: unknown) {
      if (request.authority()?.endsWith('.spin.internal')) request.setAuthority(chainTo);
      return real.handle(request as never, options as never);
    },
  };
}

const storeError = (message: string) => Object.assign(new Error(message), { payload: { tag: 'other', val: message } });

function keyvalue(env: GlueEnv) {
  const check = () => {
    if (env.storeDown?.()) throw storeError('store unavailable');
  };
  class Bucket {
    constructor(readonly name: string) {}
    get(key: string) {
      check();
      return env.kv.get(key);
    }
    set(key: string, value: Uint8Array) {
      check();
      env.kv.set(key, value.slice());
    }
    delete(key: string) {
      check();
      env.kv.delete(key);
    }
    exists(key: string) {
      check();
      return env.kv.has(key);
    }
  }
  class Cas {
    private constructor(readonly key: string, readonly seen: Uint8Array | undefined) {}
    static new(_bucket: Bucket, key: string) {
      check();
      return new Cas(key, env.kv.get(key));
    }
    current() {
      check();
      return this.seen;
    }
  }
  const same = (a?: Uint8Array, b?: Uint8Array) => (a === undefined || b === undefined ? a === b : Buffer.from(a).equals(Buffer.from(b)));
  return {
    store: { open: (name: string) => (check(), new Bucket(name)), Bucket },
    atomics: {
      Cas,
      increment(_bucket: Bucket, key: string, delta: bigint) {
        check();
        const next = BigInt(new TextDecoder().decode(env.kv.get(key) ?? new TextEncoder().encode('0'))) + delta;
        env.kv.set(key, new TextEncoder().encode(next.toString()));
        return next;
      },
      swap(cas: Cas, value: Uint8Array) {
        if (env.storeDown?.()) throw Object.assign(new Error('down'), { payload: { tag: 'store-error', val: { tag: 'other', val: 'store unavailable' } } });
        if (!same(env.kv.get(cas.key), cas.seen)) throw Object.assign(new Error('cas failed'), { payload: { tag: 'cas-failed', val: Cas.new(undefined as never, cas.key) } });
        env.kv.set(cas.key, value.slice());
      },
    },
  };
}

export interface GlueReflex {
  decide(request: Uint8Array): Uint8Array;
  /** Sensors only (the `sense` interface); undefined for the other kinds. */
  tick?: () => Uint8Array;
  incomingHandler: { handle(request: unknown, outparam: unknown): void };
}

let counter = 0;

export async function instantiateThroughGlue(component: Uint8Array, env: GlueEnv): Promise<GlueReflex> {
  const name = `reflex${counter++}`;
  const { files } = (await transpile(component, { name, instantiation: { tag: 'async' } } as never)) as unknown as { files: Record<string, Uint8Array> };
  const dir = scratchProject('glue');
  for (const [file, bytes] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), bytes);
  }
  const glue = await import(pathToFileURL(join(dir, `${name}.js`)).href);
  // Loaded: the core modules compile from memory below, so the files are no longer needed.
  rmSync(dir, { recursive: true, force: true });
  const kv = keyvalue(env);
  const nowMs = env.nowMs ?? Date.now;
  const imports = {
    'wasi:keyvalue/store@0.2.0-draft2': kv.store,
    'wasi:keyvalue/atomics@0.2.0-draft2': kv.atomics,
    'wasi:config/store@0.2.0-draft-2024-09-27': {
      get: (key: string) => env.variables?.get(key),
      getAll: () => [...(env.variables ?? new Map())],
    },
    'wasi:clocks/wall-clock@0.2.0': { now: () => ({ seconds: BigInt(Math.floor(nowMs() / 1000)), nanoseconds: Math.floor((nowMs() % 1000) * 1e6) }), resolution: () => ({ seconds: 0n, nanoseconds: 1 }) },
    'wasi:clocks/monotonic-clock@0.2.0': shim.clocks.monotonicClock,
    'wasi:http/types@0.2.0': shim.http.types,
    'wasi:http/outgoing-handler@0.2.0': spinChainingFake(env.chainTo),
    'wasi:io/error@0.2.0': shim.io.error,
    'wasi:io/poll@0.2.0': shim.io.poll,
    'wasi:io/streams@0.2.0': shim.io.streams,
  };
  // jco looks imports up with and without their version, depending on the interface.
  for (const [key, value] of Object.entries(imports)) (imports as Record<string, unknown>)[key.replace(/@[^@]+$/, '')] = value;
  const compile = (path: string) => WebAssembly.compile(files[path] as Uint8Array<ArrayBuffer>);
  const exports = await glue.instantiate(compile, imports);
  return { decide: exports.decide.decide, tick: exports.sense?.tick, incomingHandler: exports.incomingHandler };
}
