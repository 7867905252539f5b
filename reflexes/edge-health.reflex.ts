import { defineReflex } from 'kgents-edge';

// Readiness for the edge: the key-value store answers and the nucleus is up.
export default defineReflex({
  kind: 'health',
  name: 'edge-health',
  description: 'Reports whether the KV store and the nucleus are reachable',
  route: '/_reflexes/health',
  upstreams: {
    nucleus: { variable: 'nucleus_url', default: 'http://127.0.0.1:8081' },
  },
  checks: [{ kv: true }, { upstream: 'nucleus', path: '/healthz' }],
});
