// The package's public API for spec authors and embedders.
import type { buildApp as BuildApp } from './compiler/build.ts';

export { defineReflex } from './compiler/spec/define.ts';
export type { ReflexSpec, ReflexSpecInput } from './compiler/spec/schema.ts';
export { KgentsError, ReflexTooComplexError } from './common/errors.ts';

/**
 * Every spec file imports this module, and `kgents build` loads spec files in a namespace of
 * their own: the compiler and jco behind `buildApp` are loaded on its first call, so a build
 * with nothing to compile takes 0.6 s, not 2 s.
 */
export const buildApp: typeof BuildApp = async (...args) => (await import('./compiler/build.ts')).buildApp(...args);
