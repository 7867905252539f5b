import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'rate-limit', name: 'limit', description: 'x', route: '/a/...',
  key: { from: 'client' }, rate: -1, period: '1m',
  upstream: { variable: 'up', default: 'http://127.0.0.1:9' },
});
