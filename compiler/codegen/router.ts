import type { RouterAction, RouterMatch, RouterSpec } from '../spec/schema.ts';
import type { KindBody } from './entry.ts';
import { fixedResponse } from './respond.ts';
import { str, upstreamUrl } from './literals.ts';

function condition(m: RouterMatch): string {
  const parts: string[] = [];
  if (m.method) {
    const methods = (Array.isArray(m.method) ? m.method : [m.method]).map((x) => x.toUpperCase());
    parts.push(`(${methods.map((x) => `req.method == ${str(x)}`).join(' || ')})`);
  }
  if (m.path) {
    if ('prefix' in m.path) parts.push(`pathPrefix(req.path, ${str(m.path.prefix)})`);
    else if ('glob' in m.path) parts.push(`glob(${str(m.path.glob)}, req.path)`);
    else parts.push(`req.path == ${str(m.path.exact)}`);
  }
  if (m.header) {
    parts.push(m.header.equals !== undefined ? `headerEquals(req, ${str(m.header.name)}, ${str(m.header.equals)})` : m.header.present === false ? `!headerPresent(req, ${str(m.header.name)})` : `headerPresent(req, ${str(m.header.name)})`);
  }
  if (m.query) parts.push(m.query.equals !== undefined ? `queryEquals(req, ${str(m.query.name)}, ${str(m.query.equals)})` : `queryPresent(req, ${str(m.query.name)})`);
  if (m.jsonField) parts.push(`jsonEquals(req, ${str(m.jsonField.path)}, ${str(m.jsonField.equals)})`);
  if (m.keyword) parts.push(`containsKeyword(req, ${str(m.keyword)})`);
  return parts.join(' && ');
}

function action(a: RouterAction, spec: RouterSpec): string {
  if ('route' in a) return `return forward(${upstreamUrl(spec.upstreams[a.route])});`;
  if ('respond' in a) return fixedResponse(a.respond);
  return fixedResponse({ status: a.deny.status, body: { error: { code: 'denied', message: a.deny.message } } });
}

export function routerBody(spec: RouterSpec): KindBody {
  // The flag lives in the store: with it unreachable, fail-closed answers 503, fail-open (the default) routes as if it were down.
  const flag = spec.whenFlag
    ? `  const up = flagUp(STORE, ${str(spec.whenFlag.flag)});
${spec.onStoreFailure === 'fail-closed' ? '  if (storeFailed) return storeUnavailable();\n' : ''}  if (up) ${fixedResponse(
        { ...spec.whenFlag.respond, body: spec.whenFlag.respond.body ?? { error: { code: 'degraded', message: `${spec.whenFlag.flag} is raised; try again later` } } },
        [['retry-after', String(spec.whenFlag.retryAfter)]],
      )}\n`
    : '';
  const rules = spec.rules
    .map((r) => {
      const then = action(r.action, spec);
      return `  if (${condition(r.match)}) ${then.startsWith('{') ? then : `{\n    ${then}\n  }`}`;
    })
    .join('\n');
  return {
    imports: [
      `import { pathPrefix, glob, headerEquals, headerPresent, queryEquals, queryPresent, jsonEquals, containsKeyword } from './match';`,
      `import { flagUp } from './sensor';`,
      `import { storeUnavailable } from './ratelimit';`,
    ],
    body: `function decideRequest(req: Request): Decision {
${flag}${rules}
  ${action(spec.fallback, spec)}
}`,
  };
}

export function routerReads(spec: RouterSpec): { headers: string[]; body: boolean } {
  const headers = new Set<string>();
  let body = false;
  for (const { match } of spec.rules) {
    if (match.header) headers.add(match.header.name);
    if (match.jsonField || match.keyword) body = true;
  }
  return { headers: [...headers], body };
}
