import { CORE_EXPORTS, HEAP_MODULE, decodeDecision, decodeTick, encodeRequestInto, requestSize, type Decision, type ReflexRequest, type TickReport } from '../../compiler/abi.ts';
import { NeedKeys } from './kv-view.ts';
import type { CompiledReflex } from './extract.ts';
import { importsFor, newSlot, type CallState, type ImportBinding, type InstanceSlot } from './imports.ts';

const { decide: DECIDE, postDecide: POST_DECIDE, tick: TICK, postTick: POST_TICK } = CORE_EXPORTS;

type HeapExports = {
  [HEAP_MODULE.memory]: WebAssembly.Memory;
  [HEAP_MODULE.realloc]: (oldPtr: number, oldSize: number, align: number, newSize: number) => number;
};

type Exports = {
  [DECIDE]: (ptr: number, len: number) => number;
  [POST_DECIDE]: (ret: number) => void;
  [TICK]: () => number;
  [POST_TICK]: (ret: number) => void;
};

/**
 * One live instance of a reflex's core module. Calls are synchronous; the state they see
 * (store, variables, clock) is set per call. A trap (fuel exhausted, out of memory) leaves
 * the instance unusable: the caller throws it away and makes a new one.
 */
export class ReflexInstance {
  private readonly exports: Exports;
  private readonly memory: WebAssembly.Memory;
  private readonly realloc: HeapExports[typeof HEAP_MODULE.realloc];
  private readonly binding: ImportBinding;
  private readonly slot: InstanceSlot = newSlot();

  constructor(compiled: CompiledReflex) {
    this.binding = importsFor(compiled.reflex);
    const heap = new WebAssembly.Instance(compiled.heap).exports as unknown as HeapExports;
    const instance = new WebAssembly.Instance(compiled.reflex, { ...this.binding.imports, [HEAP_MODULE.module]: heap });
    this.exports = instance.exports as unknown as Exports;
    this.memory = this.slot.memory = heap[HEAP_MODULE.memory];
    this.realloc = this.slot.realloc = heap[HEAP_MODULE.realloc];
  }

  /** Points the module's shared imports at this instance and this call's state. */
  private enter(state: CallState): void {
    this.slot.state = state;
    this.binding.active = this.slot;
  }

  private leave(): void {
    this.slot.state = null;
    this.binding.active = null;
  }

  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  decide(request: ReflexRequest, state: CallState): Decision {
    this.enter(state);
    const e = this.exports;
    try {
      const size = requestSize(request);
      const ptr = this.realloc(0, 0, 1, size);
      encodeRequestInto(request, this.bytes(), ptr);
      const ret = e[DECIDE](ptr, size);
      const decision = decodeDecision(this.resultBytes(ret));
      e[POST_DECIDE](ret);
      return decision;
    } catch (error) {
      this.freeAbortedCall(error, e[POST_DECIDE]);
      throw error;
    } finally {
      this.leave();
    }
  }

  tick(state: CallState): TickReport {
    this.enter(state);
    const e = this.exports;
    try {
      const ret = e[TICK]();
      const report = decodeTick(this.resultBytes(ret));
      e[POST_TICK](ret);
      return report;
    } catch (error) {
      this.freeAbortedCall(error, e[POST_TICK]);
      throw error;
    } finally {
      this.leave();
    }
  }

  /**
   * A call stopped by a store read the host must fetch first (NeedKeys) left its arena
   * allocated; post-return frees it, so a batch of such calls cannot fill the memory cap.
   * After a trap the instance is discarded instead, so nothing more runs in it.
   */
  private freeAbortedCall(error: unknown, postReturn: (ret: number) => void): void {
    if (error instanceof NeedKeys) postReturn(0);
  }

  private cachedBytes: Uint8Array | null = null;
  /** A byte view of guest memory, renewed only when memory.grow replaced the buffer. */
  private bytes(): Uint8Array {
    const buffer = this.memory.buffer;
    if (this.cachedBytes?.buffer !== buffer) this.cachedBytes = new Uint8Array(buffer);
    return this.cachedBytes;
  }

  /** The (ptr, len) list an export returned, as a view into guest memory (valid until post-return). */
  private resultBytes(ret: number): Uint8Array {
    const b = this.bytes();
    const ptr = (b[ret] | (b[ret + 1] << 8) | (b[ret + 2] << 16) | (b[ret + 3] << 24)) >>> 0;
    const len = (b[ret + 4] | (b[ret + 5] << 8) | (b[ret + 6] << 16) | (b[ret + 7] << 24)) >>> 0;
    return b.subarray(ptr, ptr + len);
  }
}
