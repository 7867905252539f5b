import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'router', description: 'x', route: '/...',
  rules: [{ match: { path: { prefix: 'v1/chat' } }, action: { respond: { status: 200 } } }],
  fallback: { respond: { status: 404 } },
});
