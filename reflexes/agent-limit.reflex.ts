import { defineReflex } from 'kgents-edge';

// 60 requests a minute per agent, bursts of 10, in front of the agent API. Allowed requests
// pass to the API router on the same route chain.
export default defineReflex({
  kind: 'rate-limit',
  name: 'agent-limit',
  description: 'Per-agent request budget for the agent API',
  route: '/v1/agents/...',
  key: { from: 'header', name: 'x-agent-id' },
  algorithm: 'gcra',
  rate: 60,
  period: '1m',
  burst: 10,
  next: 'api-router',
  onStoreFailure: 'fail-closed',
});
