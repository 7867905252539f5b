import type { Logger } from '../../common/log.ts';
import { AnthropicBackend } from './backends/anthropic.ts';
import { ClaudeCliBackend } from './backends/claude-cli.ts';
import { OpenAiBackend } from './backends/openai.ts';
import { parseUpstreamJson, upstreamText } from './backends/http.ts';
import type { Backend, CallOptions } from './backends/types.ts';
import type { Api, ChatChunk, ChatRequest, ChatResponse } from './canonical.ts';
import { HOW_TO_CONFIGURE, type LoadedConfig } from './config.ts';
import { GatewayError } from './errors.ts';
import { Semaphore } from './semaphore.ts';
import type { Cancel } from './cancel.ts';

interface Slot {
  backend: Backend;
  semaphore: Semaphore;
}

/**
 * Chooses backends by model prefix, bounds concurrency (one global semaphore, one per
 * backend, each with a bounded queue), retries connect errors and 502/503/429 with backoff,
 * then falls back to the next backend configured for the model.
 */
export class Gateway {
  private readonly slots = new Map<string, Slot>();
  readonly global: Semaphore;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly logger: Logger,
  ) {
    const { config, secrets } = loaded;
    this.global = new Semaphore('morpheus', config.globalMaxConcurrent, config.queueMax);
    for (const b of config.backends) {
      const backend: Backend =
        b.kind === 'openai'
          ? new OpenAiBackend(b.name, b.baseUrl, b.apiKeyEnv ? secrets.get(b.apiKeyEnv) : undefined)
          : b.kind === 'anthropic'
            ? new AnthropicBackend(b.name, b.baseUrl, secrets.get(b.apiKeyEnv))
            : new ClaudeCliBackend(b.name, b.command, b.configDir, b.timeoutMs);
      this.slots.set(b.name, { backend, semaphore: new Semaphore(`backend ${b.name}`, b.maxConcurrent, Math.min(config.queueMax, b.kind === 'claude-cli' ? 16 : 128)) });
    }
  }

  get missing(): string[] {
    return this.loaded.missing;
  }

  get backends(): Backend[] {
    return [...this.slots.values()].map((s) => s.backend);
  }

  semaphores(): Semaphore[] {
    return [this.global, ...[...this.slots.values()].map((s) => s.semaphore)];
  }

  /** The backends for a model, in fallback order. */
  route(model: string): Slot[] {
    if (this.slots.size === 0) throw new GatewayError('NOT_CONFIGURED', `Morpheus has no LLM backend: ${HOW_TO_CONFIGURE}`);
    const rule = this.loaded.config.routes.find((r) => model.startsWith(r.prefix));
    if (!rule) throw new GatewayError('NOT_FOUND', `no backend serves model "${model}"; routes: ${this.loaded.config.routes.map((r) => `${r.prefix || '*'}*`).join(', ')}`);
    return rule.backends.map((name) => this.slots.get(name)!);
  }

  private options(signal: Cancel): CallOptions {
    return { signal, connectTimeoutMs: this.loaded.config.connectTimeoutMs, responseTimeoutMs: this.loaded.config.responseTimeoutMs };
  }

  /**
   * Runs `run` on the model's backends in order, retrying each; `run` gets the slot already
   * acquired and a release function it must call (a stream releases when it ends).
   */
  private async attempt<T>(model: string, slots: Slot[], signal: Cancel, run: (slot: Slot, release: () => void) => Promise<T>): Promise<{ value: T; backend: string }> {
    let last: unknown;
    for (const slot of slots) {
      for (let attempt = 0; attempt <= this.loaded.config.retries; attempt++) {
        if (attempt > 0) await sleep(Math.min(50 * 2 ** (attempt - 1), 1000), signal);
        const release = await this.acquire(slot, signal);
        try {
          return { value: await run(slot, release), backend: slot.backend.name };
        } catch (error) {
          release();
          if (signal.aborted) throw error;
          last = error;
          if (!(error instanceof GatewayError) || !error.retryable) throw error;
          this.logger.warn({ backend: slot.backend.name, model, attempt, code: error.code }, 'upstream attempt failed');
        }
      }
    }
    throw last;
  }

  /** A slot of the backend's, then a global one; a full queue fails at once (429). */
  private async acquire(slot: Slot, signal: Cancel): Promise<() => void> {
    // The backend's slot first: a request queued for a busy backend then holds none of the
    // global slots, which the other backends' requests would otherwise wait behind.
    const releaseBackend = await slot.semaphore.acquire(signal);
    try {
      const releaseGlobal = await this.global.acquire(signal);
      return () => {
        releaseGlobal();
        releaseBackend();
      };
    } catch (error) {
      releaseBackend();
      throw error;
    }
  }

  /**
   * A chat request on the model's backends in order (retries and fallback as ever), each taking
   * it the way it can: a backend that speaks the caller's API gets it as sent, so nothing the
   * caller asked for is lost (prompt caching, message names, logprobs, fields newer than
   * Morpheus), and answers as it answered; a backend of the other API, or the claude CLI, gets
   * it translated, when the canonical chat carries all it asks for (`translate` is null when it
   * does not: then only backends of the caller's API can take it). A stream holds its slots
   * until it ends; retries and fallback apply until its first chunk.
   */
  chat(api: Api, body: NativeBody, translate: (() => ChatRequest) | null, needs: string[], signal: Cancel, passed: Record<string, string> = {}): Promise<{ value: ChatAnswer; backend: string }> {
    const asSent = (slot: Slot) => slot.backend.kind === api && slot.backend.native !== undefined;
    const slots = this.route(body.model).filter((slot) => asSent(slot) || translate !== null);
    if (slots.length === 0) {
      throw new GatewayError('INVALID_REQUEST', `${needs.join(', ')}: Morpheus passes these on only to a backend that speaks the ${api === 'openai' ? 'OpenAI' : 'Anthropic'} API, and model "${body.model}" goes to none`);
    }
    let canonical: ChatRequest | undefined;
    return this.attempt(body.model, slots, signal, (slot, release): Promise<ChatAnswer> => {
      if (asSent(slot)) return this.native(slot, api, body, release, { ...this.options(signal), passed });
      canonical ??= translate!();
      return body.stream === true ? this.stream(slot, canonical, release, signal) : this.complete(slot, canonical, release, signal);
    });
  }

  private async complete(slot: Slot, request: ChatRequest, release: () => void, signal: Cancel): Promise<ChatAnswer> {
    const response = await slot.backend.complete(request, this.options(signal));
    release();
    return { kind: 'complete', response };
  }

  private async stream(slot: Slot, request: ChatRequest, release: () => void, signal: Cancel): Promise<ChatAnswer> {
    const iterator = slot.backend.stream(request, this.options(signal))[Symbol.asyncIterator]();
    const first = await iterator.next();
    const chunks = (async function* () {
      try {
        if (first.done) return;
        yield first.value;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value;
        }
      } finally {
        release();
        await iterator.return?.();
      }
    })();
    return { kind: 'stream', chunks };
  }

  /**
   * The caller's request as sent. An OpenAI stream is asked for its token counts
   * (`include_usage`) so they can be counted; `usageAdded` tells the caller to drop that last
   * chunk when its client did not ask for it.
   */
  private async native(slot: Slot, api: Api, body: NativeBody, release: () => void, options: CallOptions): Promise<ChatAnswer> {
    const stream = body.stream === true;
    const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
    const usageAdded = stream && api === 'openai' && streamOptions?.include_usage !== true;
    const sent = usageAdded ? { ...body, stream_options: { ...streamOptions, include_usage: true } } : body;
    const response = await slot.backend.native!(sent, options);
    const contentType = String(response.headers['content-type'] ?? 'application/json');
    if (!stream) {
      const text = await upstreamText(response, options);
      release();
      // Passed on as sent, but checked: garbage is a 502 in the caller's shape, as on the translated path.
      const parsed = parseUpstreamJson<{ usage?: Record<string, number> }>(text);
      return { kind: 'native', answer: { contentType, body: text, usage: parsed?.usage, usageAdded: false } };
    }
    return { kind: 'native', answer: { contentType, body: releasingAtEnd(response.body, release), usageAdded } };
  }

  async embeddings(model: string, body: unknown, signal: Cancel): Promise<{ value: unknown; backend: string }> {
    const slots = this.route(model).filter((s) => s.backend.embeddings);
    if (slots.length === 0) throw new GatewayError('NOT_FOUND', `no backend with embeddings serves model "${model}"`);
    const release = await this.acquire(slots[0], signal);
    try {
      return { value: await slots[0].backend.embeddings!(body, this.options(signal)), backend: slots[0].backend.name };
    } finally {
      release();
    }
  }

  async models(signal: Cancel): Promise<{ id: string; owned_by: string }[]> {
    const out: { id: string; owned_by: string }[] = [];
    for (const slot of this.slots.values()) {
      try {
        for (const id of (await slot.backend.models?.(this.options(signal))) ?? []) out.push({ id, owned_by: slot.backend.name });
      } catch (error) {
        this.logger.warn({ backend: slot.backend.name, err: (error as Error).message }, 'listing models failed');
      }
    }
    for (const rule of this.loaded.config.routes) if (rule.prefix && !out.some((m) => m.id === rule.prefix)) out.push({ id: `${rule.prefix}*`, owned_by: rule.backends[0] });
    return out;
  }
}

/** A request body as the caller sent it (validated). */
export type NativeBody = Record<string, unknown> & { model: string };

/** What a backend answered a request sent as it came: the whole body, or a stream of it. */
export interface NativeAnswer {
  contentType: string;
  body: string | AsyncIterable<Uint8Array>;
  /** A whole answer's token counts, in its API's own words. */
  usage?: Record<string, number>;
  /** Morpheus asked the stream for token counts its client did not ask for. */
  usageAdded: boolean;
}

export type ChatAnswer = { kind: 'native'; answer: NativeAnswer } | { kind: 'complete'; response: ChatResponse } | { kind: 'stream'; chunks: AsyncIterable<ChatChunk> };

/**
 * The upstream body, giving back its slots when it ends, fails or its reader stops early. An
 * async generator over Node's stream: a web stream in between cost a transferable stream per
 * answer and a promise per chunk more.
 */
async function* releasingAtEnd(body: AsyncIterable<Uint8Array> & { destroy(): void }, release: () => void): AsyncGenerator<Uint8Array> {
  let complete = false;
  try {
    yield* body;
    complete = true;
  } finally {
    release();
    if (!complete) body.destroy();
  }
}

function sleep(ms: number, signal: Cancel): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (stopFollowing(), resolve()), ms);
    const stopFollowing = signal.onAbort(() => (clearTimeout(timer), reject(signal.reason)));
  });
}
