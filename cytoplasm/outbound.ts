import { KgentsError } from '../common/errors.ts';
import { expandTemplate, templateVariables } from './variables.ts';

interface AllowedHost {
  scheme: string;
  host: string;
  port: string;
}

/**
 * A component's `allowed_outbound_hosts`, as Spin enforces it: scheme, host and port must match
 * an entry. Entries may be templated with variables; `*` allows any scheme, host or port.
 * An entry that is not a URL stops the load, as it stops Spin: the alternative is a 500 on
 * every request that reaches the upstream.
 */
export class OutboundPolicy {
  private readonly allowed: AllowedHost[];

  constructor(readonly reflex: string, entries: string[], variables: ReadonlyMap<string, string>) {
    this.allowed = entries.map((entry) => {
      const expanded = expandTemplate(entry, variables);
      const parsed = parseEntry(expanded);
      if (parsed) return parsed;
      const names = templateVariables(entry);
      const fix = names.length ? `; set ${names.map((n) => `SPIN_VARIABLE_${n.toUpperCase()}`).join(' or ')} to a URL such as http://host:port` : '';
      throw new KgentsError('INVALID_CONFIG', `"${entry}" is ${JSON.stringify(expanded)}, not a scheme://host[:port] URL${fix}`, { reflex, field: `component.${reflex}.allowed_outbound_hosts` });
    });
  }

  allows(target: URL): boolean {
    const port = target.port || defaultPort(target.protocol);
    return this.allowed.some((a) => (a.scheme === '*' || a.scheme === target.protocol) && (a.host === '*' || a.host === target.hostname) && (a.port === '*' || a.port === port));
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

/** `scheme://host[:port]`, where each part may be `*`; a path (an upstream's base path) is ignored. */
function parseEntry(entry: string): AllowedHost | null {
  const match = /^([a-z][a-z0-9+.-]*|\*):\/\//i.exec(entry);
  if (!match) return null;
  const anyScheme = match[1] === '*';
  const rest = entry.slice(match[0].length);
  const anyPort = /^[^/]*:\*(\/|$)/.test(rest);
  try {
    const url = new URL(`${anyScheme ? 'http' : match[1]}://${anyPort ? rest.replace(':*', '') : rest}`);
    if (!url.hostname) return null;
    const scheme = anyScheme ? '*' : url.protocol;
    return { scheme, host: url.hostname, port: anyPort ? '*' : url.port || defaultPort(url.protocol) };
  } catch {
    return null;
  }
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}
