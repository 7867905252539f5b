/**
 * Application variables as Spin resolves them: the manifest's defaults, overridden by
 * `SPIN_VARIABLE_<NAME>` in the environment (the name upper-cased).
 */
export function resolveVariables(defaults: Record<string, { default?: string }>, env: Record<string, string | undefined>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, decl] of Object.entries(defaults)) {
    const fromEnv = env[`SPIN_VARIABLE_${name.toUpperCase()}`];
    const value = fromEnv ?? decl.default;
    if (value !== undefined) out.set(name, value);
  }
  return out;
}

const TEMPLATE = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;

/** Expands `{{ name }}` templates (spin.toml uses them in allowed_outbound_hosts and component variables). */
export function expandTemplate(template: string, variables: ReadonlyMap<string, string>): string {
  return template.replace(TEMPLATE, (_, name: string) => variables.get(name) ?? '');
}

/** The variables a template names. */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(TEMPLATE)].map((m) => m[1]);
}
