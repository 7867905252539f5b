import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'router', description: 'x', route: '/...',
  rules: [], fallback: { respond: { status: 200, body: 'h', headers: { Connection: 'close', 'x-a': '1' } } },
});
