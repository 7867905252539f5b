// A rate limit that forgot to say what it is.
export default {
  name: 'agent-limit',
  description: 'no kind',
  route: '/v1/...',
  key: { from: 'header', name: 'x-agent-id' },
  rate: 60,
  period: '1m',
  burst: 10,
};
