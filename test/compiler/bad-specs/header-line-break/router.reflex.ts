import { defineReflex } from 'kgents-edge';
// A line break in a header value would let a spec write a header of its own.
export default defineReflex({
  kind: 'router', name: 'router', description: 'x', route: '/...',
  rules: [{ match: { path: { exact: '/a' } }, action: { respond: { status: 200, headers: { 'x-note': 'ok\r\nset-cookie: session=evil' } } } }],
  fallback: { respond: { status: 404 } },
});
