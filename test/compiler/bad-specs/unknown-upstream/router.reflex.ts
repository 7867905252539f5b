import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'router', description: 'x', route: '/...',
  upstreams: { nucleus: { variable: 'nucleus_url', default: 'http://127.0.0.1:8081' } },
  rules: [{ match: { path: { prefix: '/v1' } }, action: { route: 'nucleous' } }],
  fallback: { respond: { status: 404 } },
});
