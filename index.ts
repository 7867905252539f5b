// The package's public API for spec authors and embedders.
export { defineReflex } from './compiler/spec/define.ts';
export type { ReflexSpec, ReflexSpecInput } from './compiler/spec/schema.ts';
export { buildApp } from './compiler/build.ts';
export { KgentsError, ReflexTooComplexError } from './common/errors.ts';
