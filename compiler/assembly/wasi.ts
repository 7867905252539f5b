// Lowered imports from Spin's platform world, written by hand against the canonical ABI.
// Each result is written by the host into RET (see abi.ts); lists it returns are allocated
// through the heap module's realloc (compiler/toolchain/heap-module.ts), so they live in the
// per-call arena.
import { RET, Bytes, strFrom, utf8 } from './abi';


// @ts-ignore: decorator
@external('wasi:keyvalue/store@0.2.0-draft2', 'open')
declare function kv_open(namePtr: usize, nameLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:keyvalue/store@0.2.0-draft2', '[method]bucket.get')
declare function kv_get(bucket: i32, keyPtr: usize, keyLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:keyvalue/store@0.2.0-draft2', '[method]bucket.set')
declare function kv_set(bucket: i32, keyPtr: usize, keyLen: usize, valPtr: usize, valLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:keyvalue/store@0.2.0-draft2', '[method]bucket.delete')
declare function kv_delete(bucket: i32, keyPtr: usize, keyLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:keyvalue/atomics@0.2.0-draft2', '[static]cas.new')
declare function cas_new(bucket: i32, keyPtr: usize, keyLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:keyvalue/atomics@0.2.0-draft2', '[method]cas.current')
declare function cas_current(cas: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:keyvalue/atomics@0.2.0-draft2', 'swap')
declare function cas_swap(cas: i32, valPtr: usize, valLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:keyvalue/atomics@0.2.0-draft2', '[resource-drop]cas')
declare function cas_drop(cas: i32): void;
// @ts-ignore: decorator
@external('wasi:config/store@0.2.0-draft-2024-09-27', 'get')
declare function config_get(keyPtr: usize, keyLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:clocks/wall-clock@0.2.0', 'now')
declare function wall_now(ret: usize): void;

/** Raised state of the last store call; reflexes turn it into their failure policy. */
export let storeFailed = false;

export function resetStoreState(): void {
  storeFailed = false;
}

/** Bucket handles are per instance: opened on first use, kept for the instance's life. */
let bucketHandle: i32 = -1;

export function bucket(name: string): i32 {
  if (bucketHandle >= 0) return bucketHandle;
  const n = utf8(name);
  kv_open(changetype<usize>(n), <usize>n.byteLength, RET);
  if (load<u8>(RET) != 0) {
    storeFailed = true;
    return -1;
  }
  bucketHandle = load<i32>(RET, 4);
  return bucketHandle;
}

/** Reads result<option<list<u8>>, error> from RET. null = absent or failed (see storeFailed). */
function optionListResult(): Bytes | null {
  if (load<u8>(RET) != 0) {
    storeFailed = true;
    return null;
  }
  if (load<u8>(RET, 4) == 0) return null;
  return new Bytes(<usize>load<u32>(RET, 8), <i32>load<u32>(RET, 12));
}

export function kvGet(b: i32, key: string): Bytes | null {
  if (b < 0) return null;
  const k = utf8(key);
  kv_get(b, changetype<usize>(k), <usize>k.byteLength, RET);
  return optionListResult();
}

export function kvSet(b: i32, key: string, value: string): bool {
  if (b < 0) return false;
  const k = utf8(key);
  const v = utf8(value);
  kv_set(b, changetype<usize>(k), <usize>k.byteLength, changetype<usize>(v), <usize>v.byteLength, RET);
  if (load<u8>(RET) != 0) storeFailed = true;
  return load<u8>(RET) == 0;
}

export function kvDelete(b: i32, key: string): bool {
  if (b < 0) return false;
  const k = utf8(key);
  kv_delete(b, changetype<usize>(k), <usize>k.byteLength, RET);
  if (load<u8>(RET) != 0) storeFailed = true;
  return load<u8>(RET) == 0;
}

/** Compare-and-swap: read the current value, let `update` compute the next, retry on conflict. */
export abstract class CasUpdate {
  /** Returns the new value, or null to leave the key unchanged. */
  abstract next(current: Bytes | null): string | null;
}

/** Returns true when the update was stored (or not needed), false when the store failed. */
export function kvCas(b: i32, key: string, update: CasUpdate, attempts: i32 = 16): bool {
  if (b < 0) return false;
  const k = utf8(key);
  for (let i = 0; i < attempts; i++) {
    cas_new(b, changetype<usize>(k), <usize>k.byteLength, RET);
    if (load<u8>(RET) != 0) {
      storeFailed = true;
      return false;
    }
    const cas = load<i32>(RET, 4);
    cas_current(cas, RET);
    if (load<u8>(RET) != 0) {
      cas_drop(cas);
      storeFailed = true;
      return false;
    }
    let current: Bytes | null = null;
    if (load<u8>(RET, 4) != 0) current = new Bytes(<usize>load<u32>(RET, 8), <i32>load<u32>(RET, 12));
    const value = update.next(current);
    if (value === null) {
      cas_drop(cas);
      return true;
    }
    const v = utf8(value);
    // swap consumes the cas handle (own<cas>).
    cas_swap(cas, changetype<usize>(v), <usize>v.byteLength, RET);
    if (load<u8>(RET) == 0) return true;
    // cas-error: 0 = store-error(error), 1 = cas-failed(cas) which hands the handle back.
    if (load<u8>(RET, 4) == 1) {
      cas_drop(load<i32>(RET, 8));
      continue;
    }
    storeFailed = true;
    return false;
  }
  return false;
}

/** Application variable through wasi:config/store (Spin variables); fallback when unset. */
export function variable(name: string, fallback: string): string {
  const k = utf8(name);
  config_get(changetype<usize>(k), <usize>k.byteLength, RET);
  if (load<u8>(RET) != 0 || load<u8>(RET, 4) == 0) return fallback;
  return strFrom(<usize>load<u32>(RET, 8), <i32>load<u32>(RET, 12));
}

/** Wall-clock time in microseconds since the Unix epoch. */
export function nowMicros(): i64 {
  wall_now(RET);
  return <i64>load<u64>(RET) * 1_000_000 + <i64>(load<u32>(RET, 8) / 1000);
}

/** Health check: the store opens and answers a read. */
export function kvReachable(store: string): bool {
  const b = bucket(store);
  if (b < 0) return false;
  kvGet(b, 'health/ping');
  return !storeFailed;
}
