import { defineReflex } from 'kgents-edge';
export default defineReflex({ kind: 'health', name: 'same', description: 'x', route: '/b', checks: [{ kv: true }] });
