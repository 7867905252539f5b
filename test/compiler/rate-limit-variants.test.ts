import { describe, expect, it } from 'vitest';
import { decodeDecision, encodeRequest, type Decision } from '../../compiler/abi.ts';
import { rateLimitStateEnd } from '../../common/rate-limit-state.ts';
import { EXPORT_RENAMES, generateAssemblyScript, METERED_EXPORTS, readsOf } from '../../compiler/codegen/index.ts';
import { ReflexSpec } from '../../compiler/spec/schema.ts';
import { compileAssemblyScript } from '../../compiler/toolchain/asc.ts';
import { componentize } from '../../compiler/toolchain/component.ts';
import { instantiateThroughGlue } from '../support/transpiled-reflex.ts';

// The shipped example covers a header key and GCRA; these cover the other key sources, the
// fixed window and the cost header, each compiled on its own (the build keeps only what a spec uses).

const NOW = 1_700_000_000_000;

async function limiter(fields: Record<string, unknown>, nowMs: () => number = () => NOW, kv = new Map<string, Uint8Array>()) {
  const spec = ReflexSpec.parse({ kind: 'rate-limit', name: 'variant', description: 'a variant', route: '/...', upstream: { variable: 'u', default: 'http://127.0.0.1:1' }, ...fields });
  const source = generateAssemblyScript(spec, 'variant.reflex.ts', 'test');
  const core = await compileAssemblyScript(source, { renames: EXPORT_RENAMES, meteredExports: METERED_EXPORTS, fuelBudget: spec.limits.fuel, maxMemoryPages: 1 });
  const reflex = await instantiateThroughGlue(await componentize(core), { kv, nowMs });
  return (path: string, headers: [string, string][] = [], client = '10.0.0.1'): Decision =>
    decodeDecision(reflex.decide(encodeRequest({ method: 'GET', path, query: '', client, headers })));
}

const actions = (decisions: Decision[]) => decisions.map((d) => d.action);

describe('rate-limit variants through jco glue', () => {
  it('fixed window by client address: admits rate per window per client, then 429 until the window ends', async () => {
    let now = NOW;
    const decide = await limiter({ key: { from: 'client' }, algorithm: 'fixed-window', rate: 3, period: '1m' }, () => now);
    expect(actions([1, 2, 3, 4].map(() => decide('/x')))).toEqual(['forward', 'forward', 'forward', 'respond']);
    const refused = decide('/x');
    if (refused.action !== 'respond') throw new Error(`expected a refusal, got ${refused.action}`);
    // NOW lies 20 s into its minute: the window ends in 40 s.
    expect(refused.status).toBe(429);
    expect(Object.fromEntries(refused.headers)).toMatchObject({ 'retry-after': '40', 'ratelimit-policy': '"variant";q=3;w=60', ratelimit: '"variant";r=0;t=40' });
    expect(decide('/x', [], '10.0.0.2').action).toBe('forward');
    now += 40_000;
    expect(decide('/x').action).toBe('forward');
  });

  it('fixed window: one key per client, holding the window end first, however many windows pass', async () => {
    let now = NOW;
    const kv = new Map<string, Uint8Array>();
    const decide = await limiter({ key: { from: 'client' }, algorithm: 'fixed-window', rate: 2, period: '1s' }, () => now, kv);
    for (let window = 0; window < 5; window++, now += 1000) expect(actions([decide('/x'), decide('/x'), decide('/x')])).toEqual(['forward', 'forward', 'respond']);
    expect([...kv.keys()]).toEqual(['rl/variant/10.0.0.1']);
    const value = new TextDecoder().decode(kv.get('rl/variant/10.0.0.1'));
    // The last window ran from NOW + 4 s (NOW is a whole second) and ends a second later.
    expect(value).toBe(`${(NOW + 5000) * 1000}:2`);
    expect(rateLimitStateEnd(kv.get('rl/variant/10.0.0.1')!)).toBe((NOW + 5000) * 1000);
  });

  it('client key: the peer, whatever X-Forwarded-For says, unless proxies are trusted', async () => {
    const direct = await limiter({ key: { from: 'client' }, rate: 1, period: '1m' });
    expect(actions([direct('/x', [['x-forwarded-for', '1.1.1.1']]), direct('/x', [['x-forwarded-for', '2.2.2.2']])])).toEqual(['forward', 'respond']);

    // Behind one proxy, the client is the last entry: the address that proxy saw.
    const behindOne = await limiter({ key: { from: 'client', trustedProxies: 1 }, rate: 1, period: '1m' });
    const xff = (value: string): [string, string][] => [['x-forwarded-for', value]];
    expect(behindOne('/x', xff('forged-1, 203.0.113.7')).action).toBe('forward');
    expect(behindOne('/x', xff('forged-2, 203.0.113.7')).action).toBe('respond');
    expect(behindOne('/x', xff('203.0.113.8')).action).toBe('forward');
    // A second X-Forwarded-For field continues the list.
    expect(behindOne('/x', [...xff('forged-3'), ...xff('203.0.113.7')]).action).toBe('respond');
    // No header: the peer itself.
    expect(actions([behindOne('/x', [], '10.9.9.9'), behindOne('/x', [], '10.9.9.9')])).toEqual(['forward', 'respond']);

    // Behind two, the entry before the last; a list shorter than the chain gives its first entry.
    const behindTwo = await limiter({ key: { from: 'client', trustedProxies: 2 }, rate: 1, period: '1m' });
    expect(behindTwo('/x', xff('forged, 198.51.100.1, 10.0.0.5')).action).toBe('forward');
    expect(behindTwo('/x', xff('198.51.100.1,10.0.0.6')).action).toBe('respond');
    expect(behindTwo('/x', xff('198.51.100.2')).action).toBe('forward');
    // The embedded host passes a reflex only the headers it reads.
    expect(readsOf(ReflexSpec.parse({ kind: 'rate-limit', name: 'v', description: 'v', route: '/...', upstream: { variable: 'u', default: 'http://u:1' }, key: { from: 'client', trustedProxies: 1 }, rate: 1, period: '1m' })).headers).toEqual(['x-forwarded-for']);
  });

  it('path-segment key: each segment value has its own limit; a path too short shares the "-" key', async () => {
    const decide = await limiter({ key: { from: 'path-segment', index: 2 }, rate: 1, period: '1m' });
    expect(actions([decide('/v1/agents/a'), decide('/v1/agents/a/runs'), decide('/v1/agents/b')])).toEqual(['forward', 'respond', 'forward']);
    expect(actions([decide('/v1/agents'), decide('/v2')])).toEqual(['forward', 'respond']);
  });

  it('cost from a header: spends what the header says, clamped to max; no header costs 1', async () => {
    const decide = await limiter({ key: { from: 'constant', value: 'all' }, rate: 60, period: '1m', burst: 10, cost: { header: 'X-Tokens', max: 8 } });
    expect(decide('/x', [['x-tokens', '1000']]).action).toBe('forward'); // clamped to 8: 2 left
    expect(decide('/x', [['x-tokens', '3']]).action).toBe('respond');
    expect(decide('/x', [['x-tokens', '1']]).action).toBe('forward');
    expect(decide('/x').action).toBe('forward');
    expect(decide('/x').action).toBe('respond');
  });

  it('stores a long key by its hash: one client, one short key, whatever it sends', async () => {
    const kv = new Map<string, Uint8Array>();
    const decide = await limiter({ key: { from: 'header', name: 'x-agent-id' }, rate: 1, period: '1m', burst: 1 }, () => NOW, kv);
    const long = 'k'.repeat(10_000);
    expect(decide('/x', [['x-agent-id', long]]).action).toBe('forward');
    expect(decide('/x', [['x-agent-id', long]]).action).toBe('respond');
    expect(decide('/x', [['x-agent-id', `${long}!`]]).action).toBe('forward');
    expect(decide('/x', [['x-agent-id', 'short']]).action).toBe('forward');
    const keys = [...kv.keys()];
    expect(keys).toContain('rl/variant/short');
    expect(keys.filter((k) => k.startsWith('rl/variant/#'))).toHaveLength(2);
    expect(Math.max(...keys.map((k) => k.length))).toBeLessThan(40);
  });

  it('a request that costs more than the limit lets in at once gets 429 without a Retry-After it could never honour', async () => {
    for (const algorithm of ['gcra', 'fixed-window']) {
      const decide = await limiter({ key: { from: 'constant', value: 'all' }, algorithm, rate: 5, period: '1m', burst: 5, cost: { header: 'x-cost', max: 20 } });
      const refused = decide('/x', [['x-cost', '8']]);
      if (refused.action !== 'respond') throw new Error(`${algorithm}: expected a refusal, got ${refused.action}`);
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body).error.code).toBe('cost_exceeds_limit');
      expect(Object.fromEntries(refused.headers)['retry-after'], algorithm).toBeUndefined();
      // It spent nothing: a request within the limit still passes.
      expect(decide('/x', [['x-cost', '5']]).action, algorithm).toBe('forward');
    }
  });
});
