import { KgentsError } from '../../common/errors.ts';
import { dockerConfigCredentials, type Credentials } from './credentials.ts';
import { apiHost, type ImageRef } from './reference.ts';

/**
 * The OCI distribution API, as much of it as pushing and pulling an app needs. Auth follows
 * the registry's challenge: `Bearer realm=...` (get a token, with basic credentials if we have
 * them) or `Basic`. `insecure` speaks plain HTTP, for a local registry.
 */
export class RegistryClient {
  private authorization: string | undefined;
  private readonly base: string;

  constructor(
    private readonly ref: ImageRef,
    private readonly opts: { insecure?: boolean; credentials?: Credentials } = {},
  ) {
    this.base = `${opts.insecure ? 'http' : 'https'}://${apiHost(ref.registry)}`;
  }

  private url(path: string): string {
    return path.startsWith('http') ? path : `${this.base}${path}`;
  }

  /** One call; on 401, answers the challenge once and retries (bodies are buffers, so they can be sent again). */
  async call(path: string, init: RequestInit = {}, action = 'push,pull'): Promise<Response> {
    const send = () => this.fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...(this.authorization ? { authorization: this.authorization } : {}) } });
    let response = await send();
    if (response.status === 401) {
      await this.answer(response.headers.get('www-authenticate'), action);
      response = await send();
      if (response.status === 401) throw new KgentsError('UNAUTHORIZED', `${this.ref.registry} refused our credentials for ${this.ref.repository}${this.opts.credentials ? '' : ' (none given: use --username/--password-stdin or `docker login`)'}`);
    }
    if (response.status === 403) throw new KgentsError('FORBIDDEN', `${this.ref.registry} denied access to ${this.ref.repository}`);
    return response;
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.url(path), { ...init, redirect: 'follow' });
    } catch (error) {
      const cause = ((error as { cause?: Error }).cause?.message ?? (error as Error).message).trim();
      // OpenSSL's words for an HTTP answer to a TLS hello are a library code and a routine name.
      if (!this.opts.insecure && /wrong version number|EPROTO|ssl/i.test(cause)) {
        throw new KgentsError('REGISTRY', `cannot reach registry ${this.ref.registry}: it does not answer HTTPS (a plain-HTTP registry needs --insecure)`);
      }
      throw new KgentsError('REGISTRY', `cannot reach registry ${this.ref.registry}: ${cause.split('\n')[0]}`);
    }
  }

  private async answer(challenge: string | null, action: string): Promise<void> {
    const basic = this.opts.credentials ? `Basic ${Buffer.from(`${this.opts.credentials.username}:${this.opts.credentials.password}`).toString('base64')}` : undefined;
    if (challenge?.toLowerCase().startsWith('basic')) {
      if (!basic) throw new KgentsError('UNAUTHORIZED', `${this.ref.registry} needs a login: use --username/--password-stdin or \`docker login ${this.ref.registry}\``);
      this.authorization = basic;
      return;
    }
    const params = Object.fromEntries([...(challenge ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!challenge?.toLowerCase().startsWith('bearer') || !params.realm) throw new KgentsError('REGISTRY', `${this.ref.registry} answered 401 without a usable challenge`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.ref.repository}:${action}`);
    const response = await fetch(url, { headers: basic ? { authorization: basic } : {} }).catch((error) => {
      throw new KgentsError('REGISTRY', `cannot reach the token service ${url.origin}: ${(error as Error).message}`);
    });
    if (!response.ok) throw new KgentsError('UNAUTHORIZED', `the token service of ${this.ref.registry} refused us (${response.status})`);
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new KgentsError('REGISTRY', `the token service of ${this.ref.registry} sent no token`);
    this.authorization = `Bearer ${token}`;
  }

  /** Fails with the registry's own error code and message. */
  async expect(response: Response, statuses: number[], what: string): Promise<Response> {
    if (statuses.includes(response.status)) return response;
    const text = await response.text().catch(() => '');
    let detail = text.slice(0, 200);
    try {
      const first = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
      if (first) detail = `${first.code}: ${first.message}`;
    } catch {
      // not JSON: keep the text
    }
    const code = response.status === 404 ? 'NOT_FOUND' : 'REGISTRY';
    throw new KgentsError(code, `${what} failed at ${this.ref.registry} (${response.status}${detail ? `, ${detail}` : ''})`);
  }
}

/** A client for the ref's registry, with the given credentials or else those `docker login` left. */
export function clientFor(ref: ImageRef, opts: { insecure?: boolean; credentials?: Credentials }): RegistryClient {
  return new RegistryClient(ref, { insecure: opts.insecure, credentials: opts.credentials ?? dockerConfigCredentials(ref.registry) });
}
