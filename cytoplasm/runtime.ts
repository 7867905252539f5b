import type { Decision, ReflexRequest, TickReport } from '../compiler/abi.ts';
import type { BuiltReflex } from '../compiler/app-manifest.ts';
import { KgentsError } from '../common/errors.ts';
import type { KvStore } from '../common/kv/index.ts';
import { MemoryKv } from '../common/kv/memory.ts';
import { ReadCache } from './read-cache.ts';
import type { CompiledReflex } from './wasm/extract.ts';
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

/** How many times one batch may be re-run for missing keys or a lost compare-and-swap race. */
const MAX_ATTEMPTS = 16;
/** Calls per group commit: bounds the work redone when a batch loses a race. */
const MAX_BATCH = 64;

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
    readonly compiled: CompiledReflex,
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
    return new ReflexInstance(this.compiled);
  }

  private state(kv: KvView): CallState {
    return { kv, stores: this.stores, variables: this.env.variables, nowMs: this.env.nowMs };
  }

  /**
   * Runs fn on a pooled instance; an instance that trapped is dropped, never reused. A batch
   * may run a call more than once, so it reports traps itself, for the run that counts.
   */
  private withInstance<T>(fn: (instance: ReflexInstance) => T, reportTrap = true): T {
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
      if (reportTrap) this.env.onTrap?.(this.reflex.name, trap);
      throw new KgentsError('REFLEX_TRAPPED', `reflex ${this.reflex.name} was stopped: ${trap.message}`, { reflex: this.reflex.name }, { cause: trap });
    }
  }

  decide(request: ReflexRequest): Decision | Promise<Decision> {
    return this.call((instance, state) => instance.decide(request, state));
  }

  tick(): TickReport | Promise<TickReport> {
    return this.call((instance, state) => instance.tick(state));
  }

  /** In memory: straight through, synchronously. On a remote store: queued for the next group commit. */
  private call<T>(fn: (instance: ReflexInstance, state: CallState) => T): T | Promise<T> {
    const memory = this.memoryState;
    if (memory) return this.withInstance((i) => fn(i, memory));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run: fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.committing) void this.drain();
    });
  }

  /**
   * Remote-store calls of one reflex are group-committed: the calls that queued up while the
   * last commit was on the wire run one after another against one snapshot, and their writes
   * commit together. A batch costs two round trips (read, commit) however many calls it holds;
   * running the calls one at a time would cost two each, and running them concurrently would
   * lose compare-and-swap races, as they mostly touch the same keys. Across processes the
   * store's atomic commit keeps every batch correct.
   */
  private readonly pending: PendingCall[] = [];
  private committing = false;
  private readonly seen = new ReadCache();

  private async drain(): Promise<void> {
    this.committing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_BATCH);
        let outcomes: Outcome[];
        try {
          outcomes = await this.transact(batch);
        } catch (error) {
          outcomes = batch.map(() => ({ ok: false, value: error }));
        }
        batch.forEach((call, i) => {
          const { ok, value } = outcomes[i];
          if (ok) return call.resolve(value);
          if (value instanceof KgentsError && value.code === 'REFLEX_TRAPPED') this.env.onTrap?.(this.reflex.name, value.cause as Error);
          call.reject(value);
        });
      }
    } finally {
      this.committing = false;
    }
  }

  /** Runs the batch in order on one view; a call that fails leaves no writes behind. */
  private runBatch(batch: PendingCall[], view: KvView & Partial<Pick<SnapshotView, 'mark' | 'rollback'>>): Outcome[] {
    const outcomes: Outcome[] = [];
    const state = this.state(view);
    for (const call of batch) {
      const mark = view.mark?.();
      try {
        outcomes.push({ ok: true, value: this.withInstance((i) => call.run(i, state), false) });
      } catch (error) {
        if (mark) view.rollback!(mark);
        outcomes.push({ ok: false, value: error });
      }
    }
    return outcomes;
  }

  private async transact(batch: PendingCall[]): Promise<Outcome[]> {
    const store = this.env.kv;
    const snapshot = new Map<string, Uint8Array | null>();
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const view = new SnapshotView(snapshot, this.seen);
        const outcomes = this.runBatch(batch, view);
        // Every key any call of the batch missed, fetched in one round trip; then run again.
        if (view.missing.size > 0) {
          const keys = [...view.missing];
          const values = await store.getMany(keys);
          keys.forEach((k, i) => snapshot.set(k, values[i]));
          continue;
        }
        if (!view.dirty) return outcomes;
        const txn = view.transaction();
        if (await store.commit(txn)) {
          this.seen.remember(snapshot);
          this.seen.remember(txn.writes.map((w) => [w.key, w.value]));
          return outcomes;
        }
        // Lost a race, or a value this host remembered has changed: read those afresh.
        this.seen.forget(txn.expect.map((e) => e.key));
        snapshot.clear();
      }
      throw new KgentsError('CONFLICT', `reflex ${this.reflex.name} kept losing write races`);
    } catch (error) {
      if (!(error instanceof KgentsError) || error.code !== 'STORE_UNAVAILABLE') throw error;
      this.seen.clear();
      // The store is unreachable: every store import now answers with an error, and the
      // reflex applies the failure policy its spec declares.
      return this.runBatch(batch, DOWN);
    }
  }
}

interface PendingCall {
  run: (instance: ReflexInstance, state: CallState) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; value: unknown };
