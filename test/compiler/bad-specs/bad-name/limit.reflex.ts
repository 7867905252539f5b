import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'health', name: 'Edge_Health', description: 'x', route: '/h', checks: [{ kv: true }],
});
