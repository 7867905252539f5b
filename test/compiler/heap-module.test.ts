import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORE_EXPORTS, HEAP_MODULE } from '../../compiler/abi.ts';
import { CANON_OPTION, CORE_SORT, readAliases, readCanons, readCoreInstances } from '../../compiler/toolchain/component-entries.ts';
import { addHeapModule, ARENA_TOP, heapModule } from '../../compiler/toolchain/heap-module.ts';
import { ToolchainError } from '../../common/errors.ts';
import { COMPONENT_SECTION, moduleExportNames, sectionsOf } from '../../common/wasm-sections.ts';
import { compileReflex, coreModulesOf } from '../../cytoplasm/wasm/extract.ts';
import { ReflexInstance } from '../../cytoplasm/wasm/instance.ts';
import { SnapshotView } from '../../cytoplasm/wasm/kv-view.ts';
import { SHIPPED_DIST, shippedApp } from '../support/shipped-app.ts';

type Heap = { memory: WebAssembly.Memory; realloc: (old: number, oldSize: number, align: number, size: number) => number };

/** A heap module of `min` to `max` pages, its arena starting at `top`. */
function heap(min: number, max: number, top = 1020): Heap {
  const exports = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(heapModule([1, min, max])))).exports;
  const memory = exports[HEAP_MODULE.memory] as WebAssembly.Memory;
  new DataView(memory.buffer).setUint32(ARENA_TOP, top, true);
  return { memory, realloc: exports[HEAP_MODULE.realloc] as Heap['realloc'] };
}
const word = (h: Heap, at: number) => new DataView(h.memory.buffer).getUint32(at, true);

describe('heap module', () => {
  it('allocates at the arena top as the reflex runtime does: a size header, 16-aligned payloads, the top moved past', () => {
    const h = heap(1, 2);
    const a = h.realloc(0, 0, 1, 10);
    expect(a).toBe(1024);
    expect(word(h, a - 4)).toBe(12); // payload: (10 + 4 + 15) & ~15, less the header
    expect(word(h, ARENA_TOP)).toBe(a + 12);
    const b = h.realloc(0, 0, 8, 100);
    expect(b % 16).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 10);
    expect(word(h, ARENA_TOP)).toBe(b + word(h, b - 4));
  });

  it('grows memory to fit, and traps at the cap instead of writing past it', () => {
    const h = heap(1, 2);
    const big = h.realloc(0, 0, 1, 70_000);
    expect(h.memory.buffer.byteLength).toBe(2 * 65536);
    expect(big + 70_000).toBeLessThanOrEqual(2 * 65536);
    const top = word(h, ARENA_TOP);
    expect(() => h.realloc(0, 0, 1, 70_000)).toThrow(WebAssembly.RuntimeError);
    expect(word(h, ARENA_TOP)).toBe(top);
    expect(() => h.realloc(0, 0, 1, 2 ** 31)).toThrow(WebAssembly.RuntimeError);
  });

  it('copies the old bytes when reallocating, as many as fit', () => {
    const h = heap(1, 1);
    const old = h.realloc(0, 0, 1, 8);
    new Uint8Array(h.memory.buffer).set([1, 2, 3, 4, 5, 6, 7, 8], old);
    const grown = h.realloc(old, 8, 1, 64);
    expect([...new Uint8Array(h.memory.buffer, grown, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const shrunk = h.realloc(grown, 64, 1, 3);
    expect([...new Uint8Array(h.memory.buffer, shrunk, 4)]).toEqual([1, 2, 3, 0]);
  });
});

describe('components with a heap module', () => {
  const shipped = (name: string) => new Uint8Array(readFileSync(join(SHIPPED_DIST, 'reflexes', `${name}.wasm`)));

  it.each(['agent-limit', 'api-router', 'nucleus-degraded', 'edge-health'])('%s: two core modules, the heap instantiated first, every lowering against its memory, no trampoline table', async (name) => {
    await shippedApp();
    const bytes = shipped(name);
    const modules = coreModulesOf(bytes);
    expect(modules.map((m) => moduleExportNames(m).sort())[0]).toEqual([HEAP_MODULE.memory, HEAP_MODULE.realloc].sort());
    expect(modules).toHaveLength(2);
    const sections = [...sectionsOf(bytes)];
    const body = (id: number) => sections.filter((s) => s.id === id).map((s) => bytes.subarray(s.body, s.end));
    const instances = body(COMPONENT_SECTION.coreInstance).flatMap(readCoreInstances);
    expect(instances[0]).toEqual({ kind: 0, module: 0, args: [] });
    expect(instances.at(-1)).toMatchObject({ kind: 0, module: 1, args: expect.arrayContaining([{ name: HEAP_MODULE.module, instance: 0 }]) });
    expect(body(COMPONENT_SECTION.alias).flatMap(readAliases).filter((a) => a.core && a.sort === CORE_SORT.table)).toEqual([]);
    for (const canon of body(COMPONENT_SECTION.canon).flatMap(readCanons)) {
      if (canon.kind === 'resource') continue;
      for (const option of canon.options) if (option.index !== undefined && option.code !== CANON_OPTION.postReturn) expect(option.index, JSON.stringify(canon)).toBe(0);
    }
  });

  it('the host and the reflex share one arena: the request the host allocates is read intact, and each call frees the arena', async () => {
    await shippedApp();
    const instance = new ReflexInstance(await compileReflex(shipped('api-router')));
    const arenaTop = () => new DataView((instance as unknown as { memory: WebAssembly.Memory }).memory.buffer).getUint32(ARENA_TOP, true);
    const start = arenaTop();
    const state = { kv: new SnapshotView(new Map([['flag/degraded', null]])), stores: ['default'], variables: new Map<string, string>(), nowMs: () => 0 };
    // The reflex's own allocations would start on the request's bytes if it did not see the host's.
    const headers: [string, string][] = Array.from({ length: 10 }, (_, i) => [`x-filler-${i}`, 'v'.repeat(1000)]);
    const ask = (path: string) => instance.decide({ method: 'GET', path, query: '', client: '127.0.0.1', headers }, state);
    expect(ask('/healthz')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    expect(ask('/v1/chat/completions')).toEqual({ action: 'forward', target: 'http://127.0.0.1:8081', headers: [] });
    expect(ask('/elsewhere')).toMatchObject({ status: 404 });
    expect(arenaTop()).toBe(start);
  });

  it('the host refuses a component without a heap module (as an earlier build made), asking for a rebuild', async () => {
    await shippedApp();
    const bytes = shipped('edge-health');
    const heapSection = [...sectionsOf(bytes)].find((s) => s.id === COMPONENT_SECTION.coreModule)!;
    const withoutHeap = new Uint8Array([...bytes.subarray(0, heapSection.start), ...bytes.subarray(heapSection.end)]);
    await expect(compileReflex(withoutHeap)).rejects.toThrow(/no heap module: an earlier kgents build made it; build it again/);
  });

  it('refuses a layout it does not know, naming what it found: here a component that has its heap module already', async () => {
    await shippedApp();
    expect(() => addHeapModule(shipped('edge-health'), CORE_EXPORTS.decide)).toThrow(ToolchainError);
    expect(() => addHeapModule(shipped('edge-health'), CORE_EXPORTS.decide)).toThrow(/neither the reflex module nor wit-component's shim or fixup/);
  });
});
