import type { Decision, ReflexRequest, TickReport } from '../compiler/abi.ts';
import type { BuiltReflex } from '../compiler/app-manifest.ts';
import { KgentsError } from '../common/errors.ts';
import type { KvStore } from '../common/kv/index.ts';
import { MemoryKv } from '../common/kv/memory.ts';
import type { CallState } from './wasm/imports.ts';
import { ReflexInstance } from './wasm/instance.ts';
import { DOWN, MemoryView, NeedKeys, SnapshotView, type KvView } from './wasm/kv-view.ts';

export interface RuntimeEnv {
  kv: KvStore;
  variables: ReadonlyMap<string, string>;
  nowMs: () => number;
  /** Called when a reflex traps (fuel, memory): the host logs and counts it. */
  onTrap?: (reflex: string, error: Error) => void;
}

/** How many times one call may be re-run for missing keys or a lost compare-and-swap race. */
const MAX_ATTEMPTS = 16;

/**
 * One compiled reflex, loaded once, with a pool of instances. Calls on the in-memory store
 * run straight through; on a remote store they run as optimistic transactions (see kv-view).
 */
export class ReflexRuntime {
  private readonly idle: ReflexInstance[] = [];
  private live = 0;
  private readonly stores: readonly string[];
  /** On the in-memory store every call sees the same state: built once, not per request. */
  private readonly memoryState: CallState | null;

  constructor(
    readonly reflex: BuiltReflex,
    readonly module: WebAssembly.Module,
    private readonly env: RuntimeEnv,
  ) {
    this.stores = [String(reflex.spec.kv ?? 'default')];
    this.memoryState = env.kv instanceof MemoryKv ? this.state(new MemoryView(env.kv)) : null;
    this.idle.push(this.create());
  }

  get instances(): number {
    return this.live;
  }

  private create(): ReflexInstance {
    this.live++;
    return new ReflexInstance(this.module);
  }

  private state(kv: KvView): CallState {
    return { kv, stores: this.stores, variables: this.env.variables, nowMs: this.env.nowMs };
  }

  /** Runs fn on a pooled instance; an instance that trapped is dropped, never reused. */
  private withInstance<T>(fn: (instance: ReflexInstance) => T): T {
    const instance = this.idle.pop() ?? this.create();
    try {
      const result = fn(instance);
      this.idle.push(instance);
      return result;
    } catch (error) {
      if (error instanceof NeedKeys) {
        this.idle.push(instance);
        throw error;
      }
      this.live--;
      const trap = error instanceof Error ? error : new Error(String(error));
      this.env.onTrap?.(this.reflex.name, trap);
      throw new KgentsError('REFLEX_TRAPPED', `reflex ${this.reflex.name} was stopped: ${trap.message}`, { reflex: this.reflex.name }, { cause: trap });
    }
  }

  decide(request: ReflexRequest): Decision | Promise<Decision> {
    return this.call((instance, state) => instance.decide(request, state));
  }

  tick(): TickReport | Promise<TickReport> {
    return this.call((instance, state) => instance.tick(state));
  }

  /** In memory: straight through, synchronously. On a remote store: a serialized transaction. */
  private call<T>(fn: (instance: ReflexInstance, state: CallState) => T): T | Promise<T> {
    const memory = this.memoryState;
    if (memory) return this.withInstance((i) => fn(i, memory));
    return this.serialized(() => this.transact((view) => this.withInstance((i) => fn(i, this.state(view)))));
  }

  /**
   * Remote-store calls of one reflex run one at a time in this process: concurrent calls would
   * mostly touch the same keys and lose compare-and-swap races to each other. Across processes
   * the store's atomic commit keeps them correct.
   */
  private queue: Promise<unknown> = Promise.resolve();
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private async transact<T>(run: (view: KvView) => T): Promise<T> {
    const store = this.env.kv;
    const snapshot = new Map<string, Uint8Array | null>();
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const view = new SnapshotView(snapshot);
        let result: T;
        try {
          result = run(view);
        } catch (error) {
          if (!(error instanceof NeedKeys)) throw error;
          const keys = error.keys.filter((k) => !snapshot.has(k));
          const values = await store.getMany(keys);
          keys.forEach((k, i) => snapshot.set(k, values[i]));
          continue;
        }
        if (!view.dirty || (await store.commit(view.transaction()))) return result;
        snapshot.clear(); // lost a race: re-read everything
      }
      throw new KgentsError('CONFLICT', `reflex ${this.reflex.name} kept losing write races`);
    } catch (error) {
      if (!(error instanceof KgentsError) || error.code !== 'STORE_UNAVAILABLE') throw error;
      // The store is unreachable: every store import now answers with an error, and the
      // reflex applies the failure policy its spec declares.
      return run(DOWN);
    }
  }
}

