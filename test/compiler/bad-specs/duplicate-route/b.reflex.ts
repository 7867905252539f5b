import { defineReflex } from 'kgents-edge';
export default defineReflex({ kind: 'health', name: 'second', description: 'x', route: '/health', checks: [{ kv: true }] });
