import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileReflex } from '../../cytoplasm/wasm/extract.ts';
import { ReflexInstance } from '../../cytoplasm/wasm/instance.ts';
import { ReadCache } from '../../cytoplasm/read-cache.ts';
import { NeedKeys, SnapshotView } from '../../cytoplasm/wasm/kv-view.ts';
import { SHIPPED_DIST, shippedApp } from '../support/shipped-app.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

describe('SnapshotView (remote-store calls)', () => {
  it('asks for every key it lacks, and turns read-modify-writes into expectations', () => {
    const snapshot = new Map<string, Uint8Array | null>([['a', bytes('1')]]);
    const view = new SnapshotView(snapshot);
    expect(() => view.get('b')).toThrow(NeedKeys);
    expect(() => view.get('c')).toThrow(expect.objectContaining({ keys: ['b', 'c'] }));
    expect(view.swap('a', bytes('1'), bytes('2'))).toBe(true);
    expect(view.swap('a', bytes('1'), bytes('3'))).toBe(false); // the view already holds 2
    expect(view.increment('a', 5n)).toBe(7n);
    const txn = view.transaction();
    expect(txn.expect.map((e) => [e.key, text(e.value)])).toEqual([['a', '1']]);
    expect(txn.writes.map((w) => [w.key, text(w.value)])).toEqual([['a', '7']]);
  });

  it('serves remembered values without a read, and has the commit check them, even for a plain read', () => {
    const cache = new ReadCache();
    cache.remember([['flag', bytes('1')], ['gone', null], ['big', new Uint8Array(4096)]]);
    const view = new SnapshotView(new Map(), cache);
    expect(text(view.get('flag'))).toBe('1');
    expect(view.get('gone')).toBeNull();
    expect(() => view.get('big')).toThrow(NeedKeys); // too big to check by value: read afresh
    expect(view.dirty).toBe(true);
    expect(view.transaction().expect.map((e) => [e.key, text(e.value)])).toEqual([['flag', '1'], ['gone', null]]);
    expect(view.transaction().writes).toEqual([]);
  });

  it('rolls one call of a batch back to its mark, keeping the calls before it', () => {
    const view = new SnapshotView(new Map([['kept', bytes('0')], ['undone', null]]));
    view.swap('kept', bytes('0'), bytes('1'));
    const mark = view.mark();
    view.swap('undone', null, bytes('x'));
    view.set('kept', bytes('9'));
    view.rollback(mark);
    expect(text(view.get('kept'))).toBe('1');
    expect(view.get('undone')).toBeNull();
    const txn = view.transaction();
    expect(txn.expect.map((e) => e.key)).toEqual(['kept']);
    expect(txn.writes.map((w) => [w.key, text(w.value)])).toEqual([['kept', '1']]);
  });

  it('a call stopped for missing keys frees its memory: after a thousand in a row it still has one page', async () => {
    await shippedApp();
    const instance = new ReflexInstance(await compileReflex(await readFile(join(SHIPPED_DIST, 'reflexes', 'agent-limit.wasm'))));
    const request = { method: 'GET', path: '/v1/agents/a', query: '', client: '127.0.0.1', headers: [['x-agent-id', 'a'.repeat(120)]] as [string, string][] };
    const state = (view: SnapshotView) => ({ kv: view, stores: ['default'], variables: new Map(), nowMs: () => 1_700_000_000_000 });
    for (let i = 0; i < 1000; i++) expect(() => instance.decide(request, state(new SnapshotView(new Map())))).toThrow(NeedKeys);
    const view = new SnapshotView(new Map([[`rl/agent-limit/${'a'.repeat(120)}`, null]]));
    expect(instance.decide(request, state(view)).action).toBe('forward');
    expect(instance.memoryBytes).toBe(65536);
  });
});
