/** AssemblyScript literals for generated code. JSON string syntax is valid AS string syntax. */
export const str = (s: string): string => JSON.stringify(s);
export const i64 = (n: number): string => `${Math.trunc(n)}`;
export const f64 = (n: number): string => (Number.isInteger(n) ? `${n}.0` : `${n}`);
export const bool = (b: boolean): string => (b ? 'true' : 'false');

/** The URL a route goes to: the Spin variable, with the spec's default baked in for hosts that have none. */
export function upstreamUrl(u: { variable: string; default: string }): string {
  return `variable(${str(u.variable)}, ${str(u.default)})`;
}

/** Spin's local service chaining: `http://<component>.spin.internal`. */
export function chainUrl(next: string): string {
  return str(`http://${next}.spin.internal`);
}
