import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUR_WIT = resolve(dirname(fileURLToPath(import.meta.url)), '../wit');
/** Sensors export `sense` (tick) as well; the other kinds have nothing to tick. */
export const WORLDS = { reflex: 'kgents:reflex/reflex@0.1.0', sensor: 'kgents:reflex/sensor@0.1.0' } as const;

/**
 * wasi:http, wasi:io and wasi:clocks come from the WIT that @spinframework/wasi-http-proxy
 * publishes (0.2.3). Spin serves `incoming-handler@0.2.0` and matches imports semver-compatibly,
 * and 0.2.0..0.2.3 differ only in gates and docs for what we use, so the build pins the
 * package version to 0.2.0 and drops the feature gates. Nothing is vendored.
 */
async function wasiWit(): Promise<string> {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('@spinframework/wasi-http-proxy/package.json'));
  const text = await readFile(join(pkg, 'wit', 'wasi-http@0.2.3.wit'), 'utf8');
  return text
    .slice(text.indexOf('package wasi:io@'))
    .replaceAll('@0.2.3', '@0.2.0')
    .replace(/^\s*@(since|deprecated|unstable)\([^)]*\)\s*$/gm, '');
}

let source: Promise<string> | null = null;

/**
 * The reflex world and every package it uses as one WIT source (nested `package x { }` blocks).
 * One string rather than a folder: jco's wasm-tools runs under WASI with no filesystem preopens.
 */
export function reflexWitSource(): Promise<string> {
  source ??= (async () => {
    const parts = await Promise.all(['reflex.wit', 'deps/keyvalue.wit', 'deps/config.wit'].map((f) => readFile(join(OUR_WIT, f), 'utf8')));
    return [...parts, await wasiWit()].join('\n');
  })();
  return source;
}
