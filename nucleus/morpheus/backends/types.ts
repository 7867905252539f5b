import type { Api, ChatChunk, ChatRequest, ChatResponse } from '../canonical.ts';
import type { Cancel } from '../cancel.ts';
import type { UpstreamResponse } from './http.ts';

export interface CallOptions {
  signal: Cancel;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  /** Fields of the caller's request that a backend of its API passes on (`anthropic-beta`). */
  passed?: Record<string, string>;
}

/** One LLM backend behind Morpheus. Errors are GatewayErrors; cancelling the signal cancels the upstream work. */
export interface Backend {
  readonly name: string;
  readonly kind: Api | 'claude-cli';
  complete(request: ChatRequest, options: CallOptions): Promise<ChatResponse>;
  stream(request: ChatRequest, options: CallOptions): AsyncIterable<ChatChunk>;
  /** The caller's request as sent, to a backend of the caller's own API; answered as the upstream answers (2xx only). */
  native?(body: Record<string, unknown>, options: CallOptions): Promise<UpstreamResponse>;
  embeddings?(body: unknown, options: CallOptions): Promise<unknown>;
  models?(options: CallOptions): Promise<string[]>;
}
