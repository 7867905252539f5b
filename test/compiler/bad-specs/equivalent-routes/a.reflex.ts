import { defineReflex } from 'kgents-edge';
export default defineReflex({ kind: 'health', name: 'by-id', description: 'x', route: '/users/:id', checks: [{ kv: true }] });
