import { defineReflex } from 'kgents-edge';

// Chat, agent, agent-card, model and embedding traffic goes to the nucleus; /healthz is answered here; the rest is 404.
// While the `degraded` flag is up (see nucleus-degraded), everything gets 503 + Retry-After.
export default defineReflex({
  kind: 'router',
  name: 'api-router',
  description: 'Routes API traffic to the nucleus and sheds load while it is degraded',
  route: '/...',
  upstreams: {
    nucleus: { variable: 'nucleus_url', default: 'http://127.0.0.1:8081' },
  },
  whenFlag: {
    flag: 'degraded',
    respond: { status: 503, body: { error: { code: 'degraded', message: 'the nucleus is degraded; retry later' } } },
    retryAfter: 5,
  },
  rules: [
    { match: { path: { prefix: '/v1/chat' } }, action: { route: 'nucleus' } },
    { match: { path: { exact: '/v1/messages' } }, action: { route: 'nucleus' } },
    { match: { path: { prefix: '/v1/agents' } }, action: { route: 'nucleus' } },
    // A2A agent cards: the nucleus names the edge's origin in them (X-Forwarded-Host), so a client that found an agent here invokes it through the rate limit.
    { match: { path: { prefix: '/agents' } }, action: { route: 'nucleus' } },
    { match: { path: { exact: '/.well-known/agent-card.json' } }, action: { route: 'nucleus' } },
    { match: { path: { exact: '/v1/models' } }, action: { route: 'nucleus' } },
    { match: { path: { exact: '/v1/embeddings' } }, action: { route: 'nucleus' } },
    { match: { method: 'GET', path: { exact: '/healthz' } }, action: { respond: { status: 200, body: { status: 'ok' } } } },
  ],
  fallback: { respond: { status: 404, body: { error: { code: 'not_found', message: 'no route' } } } },
});
