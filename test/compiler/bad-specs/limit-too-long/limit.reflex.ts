import { defineReflex } from 'kgents-edge';
// One request a year with a burst of a billion: 10^9 years of state, past 64-bit microseconds.
export default defineReflex({
  kind: 'rate-limit', name: 'limit', description: 'x', route: '/...', upstream: { variable: 'u', default: 'http://u:1' },
  key: { from: 'constant', value: 'all' }, rate: 1, period: '8760h', burst: 1000000000,
});
