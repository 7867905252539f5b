/**
 * Plain-JS implementations of the shipped reflexes' decisions: the baseline every Wasm figure
 * is compared with. They keep state in a Map, as the Wasm reflexes do through the memory store.
 */
import type { Decision, ReflexRequest } from '../../compiler/abi.ts';

export function jsAgentLimit(state: Map<string, number>, nowMs: () => number) {
  const interval = 1_000_000; // 60 per minute, in microseconds
  const burst = 10;
  return (req: ReflexRequest): Decision => {
    const id = req.headers.find(([n]) => n === 'x-agent-id')?.[1] ?? '-';
    const key = `rl/agent-limit/${id}`;
    const now = nowMs() * 1000;
    const tat = Math.max(state.get(key) ?? 0, now);
    const newTat = tat + interval;
    const allowAt = newTat - interval * burst;
    if (now < allowAt) {
      const retry = Math.ceil((allowAt - now) / 1e6);
      return { action: 'respond', status: 429, headers: [['retry-after', String(retry)], ['ratelimit-policy', '"agent-limit";q=10;w=60'], ['ratelimit', `"agent-limit";r=0;t=${Math.ceil((tat - now) / 1e6)}`]], body: '{"error":{"code":"rate_limited"}}' };
    }
    state.set(key, newTat);
    return { action: 'forward', target: 'http://api-router.spin.internal', headers: [['ratelimit-policy', '"agent-limit";q=10;w=60'], ['ratelimit', `"agent-limit";r=${Math.floor((now - allowAt) / interval)};t=${Math.ceil((newTat - now) / 1e6)}`]] };
  };
}

export function jsApiRouter(flags: Map<string, string>, nucleusUrl: string) {
  const prefix = (path: string, p: string) => path.startsWith(p) && (path.length === p.length || path[p.length] === '/');
  return (req: ReflexRequest): Decision => {
    if (flags.get('flag/degraded') === '1') return { action: 'respond', status: 503, headers: [['content-type', 'application/json'], ['retry-after', '5']], body: '{"error":{"code":"degraded"}}' };
    if (prefix(req.path, '/v1/chat') || prefix(req.path, '/v1/agents')) return { action: 'forward', target: nucleusUrl, headers: [] };
    if (req.method === 'GET' && req.path === '/healthz') return { action: 'respond', status: 200, headers: [['content-type', 'application/json']], body: '{"status":"ok"}' };
    return { action: 'respond', status: 404, headers: [['content-type', 'application/json']], body: '{"error":{"code":"not_found","message":"no route"}}' };
  };
}

export function jsSensor(field: () => string, state: Map<string, string>, nowMs: () => number) {
  return (): number => {
    const now = nowMs();
    let total = 0;
    for (const line of field().split('\n')) {
      if (!line) continue;
      const [emitted, i0, half, expires, target] = line.split(' ', 5);
      if (target !== 'nucleus' && target !== '*') continue;
      if (Number(expires) > 0 && now >= Number(expires)) continue;
      const v = Math.min(1, Number(i0) * 0.5 ** (Math.max(0, now - Number(emitted)) / Number(half)));
      if (v >= 0.01) total += v;
    }
    const level = Math.min(1, total);
    const up = state.get('sensor/nucleus-degraded') === '1';
    if (!up && level >= 0.7) state.set('sensor/nucleus-degraded', '1');
    else if (up && level <= 0.3) state.delete('sensor/nucleus-degraded');
    return level;
  };
}

export function jsHealth(kvOk: () => boolean) {
  return (req: ReflexRequest): Decision => {
    const probe = req.headers.find(([n]) => n === 'kgents-probe-0')?.[1];
    if (probe === undefined) return { action: 'probe', urls: ['http://127.0.0.1:8081/healthz'] };
    const ok = kvOk() && Number(probe) >= 200 && Number(probe) < 400;
    return { action: 'respond', status: ok ? 200 : 503, headers: [['content-type', 'application/json']], body: JSON.stringify({ status: ok ? 'ok' : 'fail' }) };
  };
}
