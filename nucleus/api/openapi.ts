import { z } from 'zod';
import { AgentCard } from '../agents/card.ts';
import { AgentManifest } from '../agents/manifest.ts';
import { DepositInput, SenseResult } from '../pheromones/schema.ts';
import { ErrorBody, InvokeRequest, ResolveRequest } from './schemas.ts';

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } } });
const errors = { '400': { description: 'invalid request', ...json(ErrorBody) }, '404': { description: 'not found', ...json(ErrorBody) } };

/** The OpenAPI document, generated from the same zod schemas the routes validate with. */
export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'kgents nucleus', version },
    paths: {
      '/v1/chat/completions': {
        post: {
          summary: 'OpenAI chat completions (SSE when stream is true), relayed to Morpheus, which validates the body',
          responses: { '200': { description: 'chat.completion, or text/event-stream of chat.completion.chunk' }, '400': { description: 'invalid request (OpenAI error shape)' }, '502': { description: 'Morpheus unreachable' } },
        },
      },
      '/v1/messages': {
        post: {
          summary: 'Anthropic messages (SSE events when stream is true), relayed to Morpheus, which validates the body',
          responses: { '200': { description: 'message, or text/event-stream of message events' }, '400': { description: 'invalid request (Anthropic error shape)' }, '502': { description: 'Morpheus unreachable' } },
        },
      },
      '/v1/models': { get: { summary: 'The models Morpheus serves (OpenAI list shape), relayed', responses: { '200': { description: 'list of model' }, '502': { description: 'Morpheus unreachable' } } } },
      '/v1/embeddings': {
        post: {
          summary: 'OpenAI embeddings, relayed to Morpheus, which validates the body and passes it to a backend that has embeddings',
          responses: { '200': { description: 'list of embedding' }, '400': { description: 'invalid request (OpenAI error shape)' }, '502': { description: 'Morpheus unreachable' } },
        },
      },
      '/v1/agents': { get: { summary: 'List agents', responses: { '200': { description: 'agents', ...json(z.object({ agents: z.array(AgentManifest) })) } } } },
      '/v1/agents/{name}/invoke': {
        post: {
          summary: 'Run an agent (SSE when stream is true)',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: json(InvokeRequest),
          responses: { '200': { description: 'allowed' }, '202': { description: 'held in purgatory' }, ...errors },
        },
      },
      '/agents/{name}/.well-known/agent-card.json': { get: { summary: "An agent's A2A card", responses: { '200': { description: 'card', ...json(AgentCard) } } } },
      '/.well-known/agent-card.json': { get: { summary: "The nucleus's A2A card", responses: { '200': { description: 'card', ...json(AgentCard) } } } },
      '/v1/pheromones': {
        post: {
          summary: 'Deposit a pheromone',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, description: 'at most one deposit per key within a day; a repeat gets the first answer back (Idempotent-Replayed: true)', schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } }],
          requestBody: json(DepositInput),
          responses: { '201': { description: 'deposited (or replayed)' }, '422': { description: 'the Idempotency-Key was used for a different deposit' }, ...errors },
        },
        get: {
          summary: 'Sense the field: current intensities, strongest first, broadcasts included',
          parameters: ['type', 'target', 'limit'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
          responses: { '200': { description: 'sensed', ...json(SenseResult) } },
        },
      },
      '/v1/purgatory': { get: { summary: 'Held decisions', responses: { '200': { description: 'entries' } } } },
      '/v1/purgatory/{token}/resolve': { post: { summary: 'Resolve with human input', requestBody: json(ResolveRequest), responses: { '200': { description: 'resolved' }, ...errors } } },
      '/v1/purgatory/{token}/cancel': { post: { summary: 'Cancel', responses: { '200': { description: 'cancelled' }, ...errors } } },
      '/v1/observe': { get: { summary: 'Event stream (SSE, or WebSocket with an Upgrade header); history replayed on connect', responses: { '200': { description: 'text/event-stream' } } } },
    },
  };
}
