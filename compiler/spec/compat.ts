import { ReflexTooComplexError } from '../../common/errors.ts';
import { IoPattern, type ReflexSpec } from './schema.ts';

const NUCLEUS = 'this logic belongs in the nucleus (an agent or a nucleus route), not in a Wasm reflex';

/**
 * The Wasm-compatibility check from the product design: a reflex compiles only when it needs
 * no LLM, no npm libraries, and an I/O pattern the reflex host can serve.
 */
export function checkWasmCompatible(spec: ReflexSpec, file: string): void {
  if (spec.requiresLlm) {
    throw new ReflexTooComplexError(`requiresLlm is true: ${NUCLEUS}`, { file, field: 'requiresLlm' });
  }
  if (spec.requiresLibs.length > 0) {
    throw new ReflexTooComplexError(`requiresLibs lists ${spec.requiresLibs.join(', ')}: reflexes cannot load npm packages; ${NUCLEUS}`, { file, field: 'requiresLibs' });
  }
  if (!IoPattern.safeParse(spec.ioPattern).success) {
    throw new ReflexTooComplexError(`ioPattern "${spec.ioPattern}" is not one of ${IoPattern.options.join(', ')}: ${NUCLEUS}`, { file, field: 'ioPattern' });
  }
}
