import type { HealthSpec } from '../spec/schema.ts';
import type { KindBody } from './entry.ts';
import { PROBE_FIELD } from '../abi.ts';
import { str, upstreamUrl } from './literals.ts';

/**
 * Two passes when upstreams are checked: the first decision asks the host (or the wasi:http
 * glue) to probe the URLs; the second, with `kgents-probe-<i>` headers, renders the verdict.
 */
export function healthBody(spec: HealthSpec): KindBody {
  const upstreamChecks = spec.checks.flatMap((c) => ('upstream' in c ? [c] : []));
  const probes = upstreamChecks.map((c, i) => `    d.header(${str(String(i))}, ${upstreamUrl(spec.upstreams[c.upstream])} + ${str(c.path)});`).join('\n');
  let probeIndex = 0;
  const checks = spec.checks
    .map((c) => {
      if ('kv' in c) return `  ok = check(json, 'kv', kvReachable(STORE), -1) && ok;`;
      const i = probeIndex++;
      return `  status = probeStatus(req, ${str(`${PROBE_FIELD}${i}`)});\n  ok = check(json, ${str(`upstream:${c.upstream}`)}, status >= 200 && status < 400, status) && ok;`;
    })
    .join('\n');
  return {
    imports: [`import { kvReachable } from './wasi';`, `import { decimal, parseI64 } from './abi';`],
    body: `function probeStatus(req: Request, name: string): i64 {
  const v = req.header(name);
  return v === null ? 0 : parseI64(v);
}

function check(json: string[], name: string, ok: bool, status: i64): bool {
  json.push('{"name":' + jsonString(name) + ',"ok":' + (ok ? 'true' : 'false') + (status >= 0 ? ',"status":' + decimal(status) : '') + '}');
  return ok;
}

function decideRequest(req: Request): Decision {
${upstreamChecks.length ? `  if (req.header(${str(`${PROBE_FIELD}0`)}) === null) {\n    const d = new Decision();\n    d.action = ACTION_PROBE;\n${probes}\n    return d;\n  }` : ''}
  const json: string[] = [];
  let ok = true;
  let status: i64 = 0;
${checks}
  const d = respond(ok ? 200 : 503, 'application/json', '{"status":"' + (ok ? 'ok' : 'fail') + '","reflex":' + jsonString(REFLEX) + ',"checks":[' + json.join(',') + ']}');
  d.header('cache-control', 'no-store');
  return d;
}`,
  };
}

export function healthReads(spec: HealthSpec): string[] {
  return spec.checks.flatMap((c) => ('upstream' in c ? [c] : [])).map((_, i) => `${PROBE_FIELD}${i}`);
}
