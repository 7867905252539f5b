import { defineReflex } from 'kgents-edge';
// The embedded host serves /metrics itself: this reflex would never run there.
export default defineReflex({
  kind: 'router', name: 'metrics', description: 'x', route: '/metrics',
  rules: [], fallback: { respond: { status: 200, body: 'mine' } },
});
