import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'rate-limit', name: 'limit', description: 'x', route: '/...', upstream: { variable: 'u', default: 'http://u:1' },
  key: { from: 'constant', value: 'all' }, rate: 60, period: '1 minute',
});
