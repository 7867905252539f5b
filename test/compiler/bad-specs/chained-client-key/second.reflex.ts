import { defineReflex } from 'kgents-edge';
export default defineReflex({ kind: 'rate-limit', name: 'per-client', description: 'x', key: { from: 'client' }, rate: 100, period: '1s', upstream: { variable: 'nucleus_url', default: 'http://127.0.0.1:8081' } });
