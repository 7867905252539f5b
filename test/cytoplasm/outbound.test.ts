import { describe, expect, it } from 'vitest';
import { KgentsError } from '../../common/errors.ts';
import { startHost } from '../../cytoplasm/host.ts';
import { OutboundPolicy } from '../../cytoplasm/outbound.ts';
import { shippedApp, SHIPPED_DIST } from '../support/shipped-app.ts';

const vars = (entries: Record<string, string>) => new Map(Object.entries(entries));
const allows = (policy: OutboundPolicy, url: string) => policy.allows(new URL(url));

describe('allowed_outbound_hosts', () => {
  it('matches scheme, host and port, with default ports and an upstream base path', () => {
    const policy = new OutboundPolicy('r', ['{{ api_url }}', 'https://auth.example'], vars({ api_url: 'http://svc:8081/api' }));
    expect(allows(policy, 'http://svc:8081/api/v1/x')).toBe(true);
    expect(allows(policy, 'http://svc:8082/')).toBe(false);
    expect(allows(policy, 'https://svc:8081/')).toBe(false);
    expect(allows(policy, 'https://auth.example/token')).toBe(true);
    expect(allows(policy, 'https://auth.example:8443/')).toBe(false);
  });

  it('takes * for any scheme, host or port, as Spin does', () => {
    expect(allows(new OutboundPolicy('r', ['http://*:*'], vars({})), 'http://anything:1234/')).toBe(true);
    expect(allows(new OutboundPolicy('r', ['http://*:*'], vars({})), 'https://anything/')).toBe(false);
    expect(allows(new OutboundPolicy('r', ['*://db:5432'], vars({})), 'https://db:5432/')).toBe(true);
    expect(allows(new OutboundPolicy('r', ['*://db:5432'], vars({})), 'https://db:5433/')).toBe(false);
  });

  it('refuses an entry that is not a URL, naming the variable to set', () => {
    for (const value of ['notaurl', '', 'svc:8081']) {
      const error = (() => {
        try {
          new OutboundPolicy('api-router', ['{{ nucleus_url }}'], vars({ nucleus_url: value }));
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(KgentsError);
      expect((error as KgentsError).code).toBe('INVALID_CONFIG');
      expect((error as KgentsError).details.field).toBe('component.api-router.allowed_outbound_hosts');
      expect((error as KgentsError).message).toBe(`"{{ nucleus_url }}" is ${JSON.stringify(value)}, not a scheme://host[:port] URL; set SPIN_VARIABLE_NUCLEUS_URL to a URL such as http://host:port`);
    }
  });

  it('stops the host at start when an upstream variable is not a URL, instead of a 500 per request', async () => {
    await shippedApp();
    const error = await startHost({ distDir: SHIPPED_DIST, port: 0, sensors: false, env: { SPIN_VARIABLE_NUCLEUS_URL: 'notaurl' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KgentsError);
    expect((error as KgentsError).message).toContain('SPIN_VARIABLE_NUCLEUS_URL');
  });
});
