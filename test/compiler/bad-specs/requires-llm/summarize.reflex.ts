import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'summarize', description: 'summarizes requests', route: '/s',
  requiresLlm: true,
  rules: [], fallback: { respond: { status: 200 } },
});
