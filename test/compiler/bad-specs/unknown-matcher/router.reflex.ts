import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'router', description: 'x', route: '/...',
  rules: [{ match: { path: { regex: '^/a' } }, action: { respond: { status: 200 } } }],
  fallback: { respond: { status: 404 } },
});
