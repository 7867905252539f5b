import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'parse', description: 'x', route: '/p',
  requiresLibs: ['yaml'],
  rules: [], fallback: { respond: { status: 200 } },
});
