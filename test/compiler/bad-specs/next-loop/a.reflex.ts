import { defineReflex } from 'kgents-edge';
export default defineReflex({ kind: 'rate-limit', name: 'first', description: 'x', route: '/...', key: { from: 'client' }, rate: 10, period: '1s', next: 'second' });
