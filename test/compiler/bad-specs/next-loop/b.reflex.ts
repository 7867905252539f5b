import { defineReflex } from 'kgents-edge';
export default defineReflex({ kind: 'rate-limit', name: 'second', description: 'x', key: { from: 'client' }, rate: 10, period: '1s', next: 'first' });
