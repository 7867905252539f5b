import { KgentsError } from '../common/errors.ts';
import { expandTemplate } from './variables.ts';

/**
 * A component's `allowed_outbound_hosts`, as Spin enforces it: scheme, host and port must match
 * an entry. Entries may be templated with variables; `*` allows any host for that scheme.
 */
export class OutboundPolicy {
  private readonly allowed: { scheme: string; host: string; port: string }[];

  constructor(readonly reflex: string, entries: string[], variables: ReadonlyMap<string, string>) {
    this.allowed = entries.flatMap((entry) => {
      const expanded = expandTemplate(entry, variables);
      try {
        const url = new URL(expanded.includes('://') ? expanded : `http://${expanded}`);
        return [{ scheme: url.protocol, host: url.hostname, port: url.port || defaultPort(url.protocol) }];
      } catch {
        return [];
      }
    });
  }

  allows(target: URL): boolean {
    const port = target.port || defaultPort(target.protocol);
    return this.allowed.some((a) => a.scheme === target.protocol && (a.host === '*' || a.host === target.hostname) && (a.port === '*' || a.port === port));
  }

  /** Chained reflexes are called on every request: remember their verdicts. */
  private readonly chainVerdicts = new Map<string, boolean>();

  /** For `http://<reflex>.spin.internal` targets: allowed or not, without parsing a URL each time. */
  allowsChain(target: string): boolean {
    let verdict = this.chainVerdicts.get(target);
    if (verdict === undefined) this.chainVerdicts.set(target, (verdict = this.allows(new URL(target))));
    return verdict;
  }

  /** Throws OUTBOUND_DENIED (the host logs it) when the URL is not allowed. */
  check(target: string): URL {
    const url = new URL(target);
    if (!this.allows(url)) {
      throw new KgentsError('OUTBOUND_DENIED', `reflex ${this.reflex} may not connect to ${url.origin}: not in its allowed_outbound_hosts`, { reflex: this.reflex, target: url.origin });
    }
    return url;
  }
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}
