import { defineReflex } from 'kgents-edge';
export default defineReflex({ kind: 'health', name: 'first', description: 'x', route: '/health', checks: [{ kv: true }] });
