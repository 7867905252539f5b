import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'router', description: 'x', route: '/...',
  rules: [{ match: { method: 5 }, action: { respond: { status: 200 } } }],
  fallback: { respond: { status: 404 } },
});
