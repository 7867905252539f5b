/**
 * Morpheus's internal form of a chat request and answer. Every endpoint translates into it and
 * every backend translates out of it, so N APIs and M backends need N + M translators.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  /**
   * The caller's fields that are not translated (seed, user, metadata, top_k, fields newer than
   * Morpheus): a backend speaking the caller's API gets them as sent; the other API's backends
   * do not understand them, and go without.
   */
  native?: { api: 'openai' | 'anthropic'; fields: Record<string, unknown> };
}

/** The fields of `body` other than those named in `translated`. */
export function untranslated(body: Record<string, unknown>, translated: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([name, value]) => value !== undefined && !translated.includes(name)));
}

export type FinishReason = 'stop' | 'length' | 'stop_sequence' | 'error';

export interface Usage {
  input: number;
  output: number;
}

export interface ChatResponse {
  id: string;
  model: string;
  content: string;
  finish: FinishReason;
  usage: Usage;
}

export type ChatChunk = { type: 'delta'; text: string } | { type: 'done'; finish: FinishReason; usage?: Usage };
