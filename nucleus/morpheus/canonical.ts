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
