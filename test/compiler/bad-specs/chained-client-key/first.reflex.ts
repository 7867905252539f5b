import { defineReflex } from 'kgents-edge';
export default defineReflex({ kind: 'rate-limit', name: 'per-agent', description: 'x', route: '/...', key: { from: 'header', name: 'x-agent-id' }, rate: 10, period: '1s', next: 'per-client' });
