import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'router', description: 'x', route: '/...',
  rules: [{ match: { path: { prefix: '/a' } }, action: { redirect: '/b' } }],
  fallback: { respond: { status: 404 } },
});
