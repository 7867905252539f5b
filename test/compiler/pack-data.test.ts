import { describe, expect, it } from 'vitest';
import { assemble, encodeName, encodeSection, readLeb, sectionsOf, writeLeb } from '../../common/wasm-sections.ts';
import { packStaticData } from '../../compiler/toolchain/pack-data.ts';
import { EXPORT_RENAMES, generateAssemblyScript, METERED_EXPORTS } from '../../compiler/codegen/index.ts';
import { ReflexSpec } from '../../compiler/spec/schema.ts';
import { compileAssemblyScript } from '../../compiler/toolchain/asc.ts';
import { componentize } from '../../compiler/toolchain/component.ts';
import { compileReflex } from '../../cytoplasm/wasm/extract.ts';
import { ReflexInstance } from '../../cytoplasm/wasm/instance.ts';
import { SnapshotView } from '../../cytoplasm/wasm/kv-view.ts';

const utf16 = (text: string) => new Uint8Array(Uint16Array.from(text, (c) => c.charCodeAt(0)).buffer);

/**
 * A module shaped like asc's output: one memory page, active data segments, and a start
 * function that reads a word of the data into the exported global `seen`.
 */
function moduleWith(segments: { offset: number; bytes: Uint8Array; passive?: boolean }[], startReads: number | null, { dataCount = true } = {}): Uint8Array {
  const sections = [
    encodeSection(1, [1, 0x60, 0, 0]),
    ...(startReads === null ? [] : [encodeSection(3, [1, 0])]),
    encodeSection(5, [1, 0, 1]),
    encodeSection(6, [1, 0x7f, 1, 0x41, 0, 0x0b]),
    encodeSection(7, [2, ...encodeName('memory'), 2, 0, ...encodeName('seen'), 3, 0]),
    ...(startReads === null ? [] : [encodeSection(8, [0])]),
    ...(dataCount ? [encodeSection(12, writeLeb(segments.length))] : []),
    ...(startReads === null ? [] : [encodeSection(10, [1, ...withLength([0, 0x41, ...writeLeb(startReads), 0x2f, 1, 0, 0x24, 0, 0x0b])])]),
    encodeSection(11, [
      ...writeLeb(segments.length),
      ...segments.flatMap((s) => (s.passive ? [1] : [0, 0x41, ...signedLeb(s.offset), 0x0b]).concat([...writeLeb(s.bytes.length), ...s.bytes])),
    ]),
  ];
  return assemble(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), sections);
}

const withLength = (bytes: number[]) => [...writeLeb(bytes.length), ...bytes];
const signedLeb = (n: number) => (n < 64 ? [n] : n < 8192 ? [(n & 0x7f) | 0x80, n >> 7] : [(n & 0x7f) | 0x80, ((n >> 7) & 0x7f) | 0x80, n >> 14]);

function instantiate(binary: Uint8Array) {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(binary.slice()), {});
  return { memory: new Uint8Array((exports.memory as WebAssembly.Memory).buffer), seen: (exports.seen as WebAssembly.Global).value as number };
}

function dataSegmentCount(binary: Uint8Array): number {
  const data = [...sectionsOf(binary)].find((s) => s.id === 11);
  return data ? readLeb(binary, data.body)[0] : 0;
}

describe('static data packing', () => {
  const header = (length: number) => Uint8Array.from([0x1c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, length, 0, 0, 0]);
  const segments = [
    { offset: 92, bytes: header(12) },
    { offset: 112, bytes: utf16('agent-limit ') },
    // Non-ASCII characters, a pointer, and an odd length: each word that is not ASCII is escaped.
    { offset: 160, bytes: utf16('café ✓ 🙂') },
    { offset: 200, bytes: Uint8Array.from([0x90, 0x04, 0, 0, 0xff, 0x7f, 7]) },
    // Far off: a run of zero words longer than one token holds, then text that repeats itself
    // (copies from close by), and text seen a long way back (copies from a two-byte distance).
    { offset: 1200, bytes: utf16('{"error":{"code":"denied"}}'.repeat(8)) },
    { offset: 2000, bytes: utf16('agent-limit café ✓') },
  ];

  it('leaves memory after start byte for byte as the data segments wrote it, and runs the old start after', () => {
    const plain = moduleWith(segments, 1200);
    const packed = packStaticData(plain);
    expect(packed.length).toBeLessThan(plain.length);
    expect(dataSegmentCount(packed)).toBe(1);
    const before = instantiate(plain);
    const after = instantiate(packed);
    // The whole page: the blob's bytes past the image are zeroed again too.
    expect(after.memory).toEqual(before.memory);
    expect(after.seen).toBe('{'.charCodeAt(0));
    expect(after.seen).toBe(before.seen);
  });

  it('adds a start function to a module that had none', () => {
    const plain = moduleWith(segments, null);
    const packed = packStaticData(plain);
    expect(dataSegmentCount(packed)).toBe(1);
    expect(instantiate(packed).memory).toEqual(instantiate(plain).memory);
    // Nor a code or data-count section: the sections it adds go in in section order.
    const bare = moduleWith(segments, null, { dataCount: false });
    expect(instantiate(packStaticData(bare)).memory).toEqual(instantiate(bare).memory);
  });

  it('leaves nothing of the packed bytes past the image, where memory started zeroed', () => {
    // Zeros, then words that each need an escape: the packed bytes must sit past the image's end.
    const tail = Uint8Array.from({ length: 100 }, (_, i) => (i % 2 ? 0x12 : 0x34 + i));
    const plain = moduleWith([{ offset: 16, bytes: new Uint8Array(900) }, { offset: 916, bytes: tail }], 16);
    const packed = packStaticData(plain);
    expect(packed).not.toBe(plain);
    expect(instantiate(packed).memory).toEqual(instantiate(plain).memory);
  });

  it('leaves alone a module with a passive segment, and one whose data would not shrink', () => {
    const passive = moduleWith([...segments, { offset: 0, bytes: utf16('later'), passive: true }], 1200);
    expect(packStaticData(passive)).toBe(passive);
    const tiny = moduleWith([{ offset: 16, bytes: Uint8Array.from([1, 2]) }], 16);
    expect(packStaticData(tiny)).toBe(tiny);
  });

  it('packs a compiled reflex into one segment, which still answers as specified', async () => {
    const spec = ReflexSpec.parse({
      kind: 'router',
      name: 'packed',
      description: 'answers with text that is not ASCII',
      route: '/...',
      rules: [{ match: { path: { prefix: '/fr' } }, action: { respond: { status: 200, body: 'déjà vu ✓' } } }],
      fallback: { respond: { status: 404, body: { error: { code: 'not_found', message: 'no route' } } } },
    });
    const core = await compileAssemblyScript(generateAssemblyScript(spec, 'packed.reflex.ts', 'test'), { renames: EXPORT_RENAMES, meteredExports: METERED_EXPORTS, fuelBudget: 100000, maxMemoryPages: 1 });
    expect(dataSegmentCount(core)).toBe(1);
    const instance = new ReflexInstance(await compileReflex(await componentize(core)));
    const state = { kv: new SnapshotView(new Map()), stores: ['default'], variables: new Map(), nowMs: () => 0 };
    const ask = (path: string) => instance.decide({ method: 'GET', path, query: '', client: '127.0.0.1', headers: [] }, state);
    expect(ask('/fr')).toMatchObject({ status: 200, body: 'déjà vu ✓' });
    expect(ask('/en')).toMatchObject({ status: 404, body: '{"error":{"code":"not_found","message":"no route"}}' });
  });
});
