// Morpheus's internal form of a chat request and answer, for a request that crosses APIs (or goes
// to the claude CLI): each endpoint translates into it and each backend out of it, so N APIs and
// M backends need N + M translators. A backend of the caller's own API gets the request as sent.

/** The two wire APIs Morpheus speaks, to clients and to backends. */
export type Api = 'openai' | 'anthropic';

/** A tool the model may call: its parameters are a JSON Schema. */
export interface ToolSpec {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

/** Whether the model may call a tool (`auto`), must call one (`required`), may not (`none`), or must call this one. */
export type ToolChoice = 'auto' | 'required' | 'none' | { name: string };

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text, as OpenAI carries them (Anthropic carries an object). */
  arguments: string;
}

/** An image, inline (base64 with its media type) or by URL. */
export type ImageSource = { mediaType: string; data: string } | { url: string };

/** A message's text and images in their order, kept only for messages with images or more than one text. */
export type ContentPart = { type: 'text'; text: string } | { type: 'image'; source: ImageSource };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** The text (of every text part, for a message that has parts). */
  content: string;
  parts?: ContentPart[];
  /** An assistant's tool calls. */
  toolCalls?: ToolCall[];
  /** A tool message: the call whose result `content` is. */
  toolCallId?: string;
  /** A tool message: the tool failed (Anthropic's `is_error`). */
  toolError?: boolean;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  /** False: at most one tool call per answer. */
  parallelToolCalls?: boolean;
}

export type FinishReason = 'stop' | 'length' | 'stop_sequence' | 'tool_calls' | 'error';

export interface Usage {
  input: number;
  output: number;
}

export interface ChatResponse {
  id: string;
  model: string;
  content: string;
  toolCalls?: ToolCall[];
  finish: FinishReason;
  /** With finish `stop_sequence`: the sequence the answer stopped at, when the backend says. */
  stopSequence?: string;
  usage: Usage;
}

/**
 * A piece of a streamed answer. A tool call arrives as its first piece (`id` and `name`, at its
 * `index` among the answer's calls), then pieces of its arguments' JSON text.
 */
export type ChatChunk =
  | { type: 'delta'; text: string }
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments: string }
  | { type: 'done'; finish: FinishReason; stopSequence?: string; usage?: Usage };

/** Whether a request needs a backend that takes images. */
export const usesImages = (r: ChatRequest): boolean => r.messages.some((m) => m.parts?.some((p) => p.type === 'image'));

/** Whether a request needs a backend that can call tools. */
export const usesTools = (r: ChatRequest): boolean => (r.tools?.length ?? 0) > 0 || r.messages.some((m) => m.role === 'tool' || (m.toolCalls?.length ?? 0) > 0);
