import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'router', description: 'x', route: '/...',
  rules: [{ match: { path: { prefix: '/a' } }, action: { route: 'http://x', deny: {} } }],
  fallback: { respond: { status: 404 } },
});
