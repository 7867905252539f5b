import { defineReflex } from 'kgents-edge';
export default defineReflex({ kind: 'health', name: 'api', description: 'x', route: '/api/*', checks: [{ kv: true }] });
