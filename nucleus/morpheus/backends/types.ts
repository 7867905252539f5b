import type { ChatChunk, ChatRequest, ChatResponse } from '../canonical.ts';

export interface CallOptions {
  signal: AbortSignal;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

/** One LLM backend behind Morpheus. Errors are GatewayErrors; aborting the signal cancels the upstream work. */
export interface Backend {
  readonly name: string;
  readonly kind: 'openai' | 'anthropic' | 'claude-cli';
  complete(request: ChatRequest, options: CallOptions): Promise<ChatResponse>;
  stream(request: ChatRequest, options: CallOptions): AsyncIterable<ChatChunk>;
  embeddings?(body: unknown, options: CallOptions): Promise<unknown>;
  models?(options: CallOptions): Promise<string[]>;
}
