import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'kube', description: 'x', route: '/k',
  ioPattern: 'filesystem',
  rules: [], fallback: { respond: { status: 200 } },
});
