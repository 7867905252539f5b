import { textEncoder } from '../../common/kv/index.ts';
import { fullImportName } from '../../common/reflex-imports.ts';
import { decodeUtf8 } from '../../common/utf8.ts';
import type { KvView } from './kv-view.ts';

/**
 * The lowered (canonical ABI) form of every import a reflex may have, implemented on the
 * plain WebAssembly API. Results are written at the guest's `retptr`; lists and strings the
 * host returns are allocated through the guest's `cabi_realloc`.
 */

export interface CallState {
  kv: KvView;
  /** Store names this reflex may open (spin.toml key_value_stores). */
  stores: readonly string[];
  variables: ReadonlyMap<string, string>;
  nowMs: () => number;
}

/** What the imports need of the instance that is calling them. */
export interface InstanceSlot {
  memory: WebAssembly.Memory | null;
  realloc: ((oldPtr: number, oldSize: number, align: number, newSize: number) => number) | null;
  state: CallState | null;
  buckets: Map<number, string>;
  cases: Map<number, { key: string; current: Uint8Array | null }>;
  nextHandle: number;
}

export function newSlot(): InstanceSlot {
  return { memory: null, realloc: null, state: null, buckets: new Map(), cases: new Map(), nextHandle: 1 };
}

/**
 * One import object per module, shared by all its instances: V8 instantiates much faster
 * with the same import functions than with fresh closures each time. Calls are synchronous
 * and never re-enter another instance, so the caller points `active` at its own slot before
 * each export call.
 */
export interface ImportBinding {
  active: InstanceSlot | null;
  imports: WebAssembly.Imports;
}

const bindings = new WeakMap<WebAssembly.Module, ImportBinding>();

export function importsFor(module: WebAssembly.Module): ImportBinding {
  let binding = bindings.get(module);
  if (!binding) {
    binding = { active: null, imports: {} };
    binding.imports = createImports(module, binding);
    bindings.set(module, binding);
  }
  return binding;
}

const KV = 'wasi:keyvalue/store@0.2.0-draft2';
const ATOMICS = 'wasi:keyvalue/atomics@0.2.0-draft2';
const CONFIG = 'wasi:config/store@0.2.0-draft-2024-09-27';

function createImports(module: WebAssembly.Module, binding: ImportBinding): WebAssembly.Imports {
  const slot = () => binding.active!;
  // Views over guest memory, renewed only when memory.grow replaces the buffer.
  let buffer: ArrayBuffer | null = null;
  let dataView: DataView;
  let byteView: Uint8Array;
  const refresh = () => {
    buffer = slot().memory!.buffer;
    dataView = new DataView(buffer);
    byteView = new Uint8Array(buffer);
  };
  const view = () => {
    if (slot().memory!.buffer !== buffer) refresh();
    return dataView;
  };
  const bytesAt = (ptr: number, len: number) => {
    if (slot().memory!.buffer !== buffer) refresh();
    return byteView.subarray(ptr, ptr + len);
  };
  const strAt = (ptr: number, len: number) => {
    if (slot().memory!.buffer !== buffer) refresh();
    return decodeUtf8(byteView, ptr, ptr + len);
  };
  const call = () => slot().state!;

  /** Copies bytes into guest memory; returns the guest pointer. */
  const give = (bytes: Uint8Array): number => {
    const ptr = slot().realloc!(0, 0, 1, bytes.length);
    bytesAt(ptr, bytes.length).set(bytes);
    return ptr;
  };
  const writeOptionList = (ret: number, value: Uint8Array | null) => {
    const ptr = value ? give(value) : 0;
    const v = view();
    v.setUint8(ret, 0);
    v.setUint8(ret + 4, value ? 1 : 0);
    if (value) {
      v.setUint32(ret + 8, ptr, true);
      v.setUint32(ret + 12, value.length, true);
    }
  };
  /** err(error::other("...")) with the error variant at `at`. */
  const writeStoreError = (ret: number, at: number, message: string) => {
    const bytes = textEncoder.encode(message);
    const ptr = give(bytes);
    const v = view();
    v.setUint8(ret, 1);
    v.setUint8(at, 2);
    v.setUint32(at + 4, ptr, true);
    v.setUint32(at + 8, bytes.length, true);
  };
  const ok = (ret: number) => view().setUint8(ret, 0);
  /** ok(resource): a new handle for this instance, written at `ret + 4`. */
  const okNewHandle = (ret: number): number => {
    const handle = slot().nextHandle++;
    const v = view();
    v.setUint8(ret, 0);
    v.setUint32(ret + 4, handle, true);
    return handle;
  };
  const DOWN_MESSAGE = 'store unavailable';


  const kv = {
    open(namePtr: number, nameLen: number, ret: number) {
      const name = strAt(namePtr, nameLen);
      const s = call();
      if (!s.stores.includes(name)) {
        const v = view();
        v.setUint8(ret, 1);
        v.setUint8(ret + 4, 0); // no-such-store
        return;
      }
      if (s.kv.down) return writeStoreError(ret, ret + 4, DOWN_MESSAGE);
      slot().buckets.set(okNewHandle(ret), name);
    },
    '[method]bucket.get'(_bucket: number, keyPtr: number, keyLen: number, ret: number) {
      const s = call();
      if (s.kv.down) return writeStoreError(ret, ret + 4, DOWN_MESSAGE);
      writeOptionList(ret, s.kv.get(strAt(keyPtr, keyLen)));
    },
    '[method]bucket.set'(_bucket: number, keyPtr: number, keyLen: number, valPtr: number, valLen: number, ret: number) {
      const s = call();
      if (s.kv.down) return writeStoreError(ret, ret + 4, DOWN_MESSAGE);
      s.kv.set(strAt(keyPtr, keyLen), bytesAt(valPtr, valLen).slice());
      ok(ret);
    },
    '[method]bucket.delete'(_bucket: number, keyPtr: number, keyLen: number, ret: number) {
      const s = call();
      if (s.kv.down) return writeStoreError(ret, ret + 4, DOWN_MESSAGE);
      s.kv.delete(strAt(keyPtr, keyLen));
      ok(ret);
    },
    '[method]bucket.exists'(_bucket: number, keyPtr: number, keyLen: number, ret: number) {
      const s = call();
      if (s.kv.down) return writeStoreError(ret, ret + 4, DOWN_MESSAGE);
      const exists = s.kv.get(strAt(keyPtr, keyLen)) !== null;
      const v = view();
      v.setUint8(ret, 0);
      v.setUint8(ret + 4, exists ? 1 : 0);
    },
    '[resource-drop]bucket'(handle: number) {
      slot().buckets.delete(handle);
    },
  };

  const atomics = {
    increment(_bucket: number, keyPtr: number, keyLen: number, delta: bigint, ret: number) {
      const s = call();
      if (s.kv.down) return writeStoreError(ret, ret + 8, DOWN_MESSAGE);
      const next = s.kv.increment(strAt(keyPtr, keyLen), delta);
      const v = view();
      v.setUint8(ret, 0);
      v.setBigInt64(ret + 8, next, true);
    },
    '[static]cas.new'(_bucket: number, keyPtr: number, keyLen: number, ret: number) {
      const s = call();
      if (s.kv.down) return writeStoreError(ret, ret + 4, DOWN_MESSAGE);
      const key = strAt(keyPtr, keyLen);
      const current = s.kv.get(key);
      slot().cases.set(okNewHandle(ret), { key, current: current ? current.slice() : null });
    },
    '[method]cas.current'(handle: number, ret: number) {
      const s = call();
      if (s.kv.down) return writeStoreError(ret, ret + 4, DOWN_MESSAGE);
      writeOptionList(ret, slot().cases.get(handle)?.current ?? null);
    },
    swap(handle: number, valPtr: number, valLen: number, ret: number) {
      const s = call();
      const cases = slot().cases;
      const cas = cases.get(handle);
      cases.delete(handle);
      const v = view();
      if (s.kv.down || !cas) {
        // cas-error::store-error(error::other(..)): the error variant sits at ret + 8.
        writeStoreError(ret, ret + 8, DOWN_MESSAGE);
        v.setUint8(ret + 4, 0);
        return;
      }
      if (s.kv.swap(cas.key, cas.current, bytesAt(valPtr, valLen).slice())) return ok(ret);
      // cas-failed hands a fresh cas back to the guest.
      const again = slot().nextHandle++;
      cases.set(again, { key: cas.key, current: s.kv.get(cas.key) });
      v.setUint8(ret, 1);
      v.setUint8(ret + 4, 1);
      v.setUint32(ret + 8, again, true);
    },
    '[resource-drop]cas'(handle: number) {
      slot().cases.delete(handle);
    },
  };

  // Variables change only on reload, so their UTF-8 bytes are encoded once.
  const encodedVariables = new Map<string, Uint8Array>();
  const config = {
    get(keyPtr: number, keyLen: number, ret: number) {
      const value = call().variables.get(strAt(keyPtr, keyLen));
      if (value === undefined) return writeOptionList(ret, null);
      let bytes = encodedVariables.get(value);
      if (!bytes) encodedVariables.set(value, (bytes = textEncoder.encode(value)));
      writeOptionList(ret, bytes);
    },
    'get-all'(ret: number) {
      // Reflexes never list variables; answer an empty list rather than trap.
      const v = view();
      v.setUint8(ret, 0);
      v.setUint32(ret + 4, 0, true);
      v.setUint32(ret + 8, 0, true);
    },
  };

  const wallClock = {
    now(ret: number) {
      const ms = call().nowMs();
      const seconds = Math.floor(ms / 1000);
      const v = view();
      // The u64 as two u32 halves: a BigInt a call cost more than the rest of the import.
      v.setUint32(ret, seconds % 2 ** 32, true);
      v.setUint32(ret + 4, Math.floor(seconds / 2 ** 32), true);
      v.setUint32(ret + 8, Math.floor((ms % 1000) * 1e6), true);
    },
  };
  const monotonicClock = {
    now: () => process.hrtime.bigint(),
  };

  const provided: Record<string, Record<string, unknown>> = {
    [KV]: kv,
    [ATOMICS]: atomics,
    [CONFIG]: config,
    'wasi:clocks/wall-clock@0.2.0': wallClock,
    'wasi:clocks/monotonic-clock@0.2.0': monotonicClock,
  };

  // wasi:http is the Spin path; on the decide path the host does HTTP itself, so those imports trap.
  const imports: WebAssembly.Imports = {};
  for (const { module: shortModule, name: shortName, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== 'function') continue;
    const full = fullImportName({ module: shortModule, name: shortName });
    const fn = provided[full.module]?.[full.name] ?? (() => {
      throw new Error(`${full.module}#${full.name} is not available on the decide path`);
    });
    (imports[shortModule] ??= {})[shortName] = fn as WebAssembly.ImportValue;
  }
  return imports;
}
