import { textEncoder } from '../../common/kv/index.ts';
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

export interface GuestMemory {
  memory: WebAssembly.Memory | null;
  realloc: ((oldPtr: number, oldSize: number, align: number, newSize: number) => number) | null;
}

const KV = 'wasi:keyvalue/store@0.2.0-draft2';
const ATOMICS = 'wasi:keyvalue/atomics@0.2.0-draft2';
const CONFIG = 'wasi:config/store@0.2.0-draft-2024-09-27';

export function createImports(module: WebAssembly.Module, guest: GuestMemory, state: { current: CallState | null }): WebAssembly.Imports {
  // Views over guest memory, renewed only when memory.grow replaces the buffer.
  let buffer: ArrayBuffer | null = null;
  let dataView: DataView;
  let byteView: Uint8Array;
  const refresh = () => {
    buffer = guest.memory!.buffer;
    dataView = new DataView(buffer);
    byteView = new Uint8Array(buffer);
  };
  const view = () => {
    if (guest.memory!.buffer !== buffer) refresh();
    return dataView;
  };
  const bytesAt = (ptr: number, len: number) => {
    if (guest.memory!.buffer !== buffer) refresh();
    return byteView.subarray(ptr, ptr + len);
  };
  const strAt = (ptr: number, len: number) => {
    if (guest.memory!.buffer !== buffer) refresh();
    return decodeUtf8(byteView, ptr, ptr + len);
  };
  const call = () => state.current!;

  /** Copies bytes into guest memory; returns the guest pointer. */
  const give = (bytes: Uint8Array): number => {
    const ptr = guest.realloc!(0, 0, 1, bytes.length);
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
  const DOWN_MESSAGE = 'store unavailable';

  const buckets = new Map<number, string>();
  const cases = new Map<number, { key: string; current: Uint8Array | null }>();
  let nextHandle = 1;

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
      const handle = nextHandle++;
      buckets.set(handle, name);
      const v = view();
      v.setUint8(ret, 0);
      v.setUint32(ret + 4, handle, true);
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
      buckets.delete(handle);
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
      const handle = nextHandle++;
      cases.set(handle, { key, current: current ? current.slice() : null });
      const v = view();
      v.setUint8(ret, 0);
      v.setUint32(ret + 4, handle, true);
    },
    '[method]cas.current'(handle: number, ret: number) {
      const s = call();
      if (s.kv.down) return writeStoreError(ret, ret + 4, DOWN_MESSAGE);
      writeOptionList(ret, cases.get(handle)?.current ?? null);
    },
    swap(handle: number, valPtr: number, valLen: number, ret: number) {
      const s = call();
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
      const again = nextHandle++;
      cases.set(again, { key: cas.key, current: s.kv.get(cas.key) });
      v.setUint8(ret, 1);
      v.setUint8(ret + 4, 1);
      v.setUint32(ret + 8, again, true);
    },
    '[resource-drop]cas'(handle: number) {
      cases.delete(handle);
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
      const v = view();
      v.setBigUint64(ret, BigInt(Math.floor(ms / 1000)), true);
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
  for (const { module: name, name: field, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== 'function') continue;
    const fn = provided[name]?.[field] ?? (() => {
      throw new Error(`${name}#${field} is not available on the decide path`);
    });
    (imports[name] ??= {})[field] = fn as WebAssembly.ImportValue;
  }
  return imports;
}
