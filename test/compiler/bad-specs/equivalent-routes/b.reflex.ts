import { defineReflex } from 'kgents-edge';
export default defineReflex({ kind: 'health', name: 'by-name', description: 'x', route: '/users/:name', checks: [{ kv: true }] });
