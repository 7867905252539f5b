import { readFileSync } from 'node:fs';
import { KgentsError } from '../../common/errors.ts';

/**
 * A credential from `NAME`, or from the file named by `NAME_FILE` (what a mounted Kubernetes
 * Secret provides). Every value read is remembered so logs and error bodies can be scrubbed.
 */
export class Secrets {
  private readonly values = new Set<string>();

  constructor(private readonly env: Record<string, string | undefined>) {}

  get(name: string): string | undefined {
    let value = this.env[name];
    const file = this.env[`${name}_FILE`];
    if (!value && file) {
      try {
        value = readFileSync(file, 'utf8').trim();
      } catch {
        throw new KgentsError('INVALID_CONFIG', `${name}_FILE points at ${file}, which cannot be read`);
      }
    }
    if (value) this.values.add(value);
    return value || undefined;
  }

  /** Replaces any known secret in a text (error messages, log lines). */
  redact(text: string): string {
    let out = text;
    for (const v of this.values) if (v.length >= 4) out = out.split(v).join('[redacted]');
    return out;
  }
}
