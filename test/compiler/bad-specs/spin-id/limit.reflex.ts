import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'rate-limit', name: 'agent--limit', description: 'x', route: '/...', upstream: { variable: 'nucleus__url', default: 'http://n:1' },
  key: { from: 'client' }, rate: 10, period: '1s',
});
