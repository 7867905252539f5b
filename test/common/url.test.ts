import { describe, expect, it } from 'vitest';
import { requestOrigin } from '../../common/url.ts';

const headers = (fields: Record<string, string>) => (name: string) => fields[name];

describe('requestOrigin', () => {
  it('is the request\'s own origin when no proxy named one', () => {
    expect(requestOrigin('http://10.0.0.5:8081/x?y=1', headers({}))).toBe('http://10.0.0.5:8081');
  });

  it('takes X-Forwarded-Host and -Proto, the first proxy\'s value of each', () => {
    expect(requestOrigin('http://10.0.0.5:8081/x', headers({ 'x-forwarded-host': 'Edge.Example:3000', 'x-forwarded-proto': 'http' }))).toBe('http://edge.example:3000');
    expect(requestOrigin('http://10.0.0.5:8081/x', headers({ 'x-forwarded-host': 'api.example, 10.0.0.9', 'x-forwarded-proto': 'HTTPS, http' }))).toBe('https://api.example');
    // No scheme said, or one that is not http(s): the request's own.
    expect(requestOrigin('http://10.0.0.5:8081/x', headers({ 'x-forwarded-host': 'api.example' }))).toBe('http://api.example');
    expect(requestOrigin('http://10.0.0.5:8081/x', headers({ 'x-forwarded-host': 'api.example', 'x-forwarded-proto': 'javascript' }))).toBe('http://api.example');
    expect(requestOrigin('http://10.0.0.5:8081/x', headers({ 'x-forwarded-host': 'api.example:443', 'x-forwarded-proto': 'https' }))).toBe('https://api.example');
    expect(requestOrigin('http://10.0.0.5:8081/x', headers({ 'x-forwarded-host': '[::1]:3000' }))).toBe('http://[::1]:3000');
  });

  it('does not take a host that is more than a host', () => {
    for (const host of ['evil.example/path', 'user@evil.example', 'evil.example?q', 'evil.example#f', '', ' ', 'a b', 'evil.example:99999999', 'evil.example:99999'])
      expect(requestOrigin('http://10.0.0.5:8081/x', headers({ 'x-forwarded-host': host })), host).toBe('http://10.0.0.5:8081');
  });
});
