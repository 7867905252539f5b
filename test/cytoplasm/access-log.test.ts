import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type ReflexHost } from '../../cytoplasm/host.ts';
import { shippedApp, SHIPPED_DIST } from '../support/shipped-app.ts';

const lines: Record<string, unknown>[] = [];
const hosts: ReflexHost[] = [];
const hostLoggingAt = async (level: string) => {
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const host = await startHost({ distDir: SHIPPED_DIST, port: 0, sensors: false, logger });
  hosts.push(host);
  return host;
};

beforeAll(() => shippedApp());
afterAll(() => Promise.all(hosts.map((h) => h.close())));

describe('access log', () => {
  it('at debug level, logs each request a reflex served: method, path, reflex, status, time', async () => {
    const host = await hostLoggingAt('debug');
    await (await fetch(`${host.url}/nowhere?x=1`)).body?.cancel();
    expect(lines.filter((l) => l.msg === 'request')).toEqual([{ level: 20, time: expect.any(Number), pid: expect.any(Number), hostname: expect.any(String), method: 'GET', path: '/nowhere', reflex: 'api-router', status: 404, ms: expect.any(Number), msg: 'request' }]);
  });

  it('at the default level, logs none', async () => {
    lines.length = 0;
    const host = await hostLoggingAt('info');
    await (await fetch(`${host.url}/nowhere`)).body?.cancel();
    expect(lines.filter((l) => l.msg === 'request')).toEqual([]);
  });
});
