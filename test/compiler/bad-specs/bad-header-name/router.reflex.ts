import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'router', description: 'x', route: '/...',
  rules: [{ match: { path: { exact: '/a' } }, action: { respond: { status: 200, headers: { 'Cache Control': 'no-store' } } } }],
  fallback: { respond: { status: 404 } },
});
