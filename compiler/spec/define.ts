import type { ReflexSpecInput } from './schema.ts';

/**
 * What a `*.reflex.ts` file default-exports. It returns its argument untouched: validation
 * happens at build time, where the error can name the file and the field. Typing the argument
 * gives editors completion and catches most mistakes before that.
 */
export function defineReflex<const T extends ReflexSpecInput>(spec: T): T {
  return spec;
}
