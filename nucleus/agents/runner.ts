import OpenAI from 'openai';
import { KgentsError } from '../../common/errors.ts';
import type { Conscience } from '../conscience/hook.ts';
import type { Purgatory } from '../conscience/purgatory.ts';
import type { EventHub } from '../observe/hub.ts';
import type { Gateway } from '../gateway.ts';
import type { AgentManifest } from './manifest.ts';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export type InvokeResult =
  | { status: 'allowed'; agent: string; output: string; annotations: string[]; usage?: Usage }
  | { status: 'held'; agent: string; token: string; reason: string };

/**
 * Runs agents: one chat completion through Morpheus (the official `openai` client, only the
 * baseURL changed), then the conscience decides whether the answer takes effect.
 */
export class AgentRunner {
  constructor(
    private readonly llm: Gateway,
    private readonly conscience: Conscience,
    private readonly purgatory: Purgatory,
    private readonly hub: EventHub,
  ) {}

  private messages(agent: AgentManifest, input: string) {
    return [
      { role: 'system' as const, content: agent.systemPrompt },
      { role: 'user' as const, content: input },
    ];
  }

  private async review(agent: AgentManifest, input: string, output: string, usage?: Usage): Promise<InvokeResult> {
    const verdict = await this.conscience({ agent: agent.name, input, output, model: agent.model }, agent);
    this.hub.publish('invocation', { agent: agent.name, verdict: verdict.action, outputChars: output.length });
    if (verdict.action === 'hold') {
      const held = this.purgatory.hold(agent.name, input, output, verdict.reason);
      return { status: 'held', agent: agent.name, token: held.token, reason: verdict.reason };
    }
    return { status: 'allowed', agent: agent.name, output, annotations: verdict.annotations ?? [], ...(usage ? { usage } : {}) };
  }

  async invoke(agent: AgentManifest, input: string, signal?: AbortSignal): Promise<InvokeResult> {
    const completion = await this.call(() => this.llm.openai().chat.completions.create({ model: agent.model, messages: this.messages(agent, input) }, { signal }));
    const output = completion.choices[0]?.message?.content ?? '';
    const usage = completion.usage ? { promptTokens: completion.usage.prompt_tokens, completionTokens: completion.usage.completion_tokens } : undefined;
    return this.review(agent, input, output, usage);
  }

  /** Streams text deltas as Morpheus sends them; the last item is the reviewed result. */
  async *stream(agent: AgentManifest, input: string, signal?: AbortSignal): AsyncGenerator<{ delta: string } | { result: InvokeResult }> {
    const stream = await this.call(() => this.llm.openai().chat.completions.create({ model: agent.model, messages: this.messages(agent, input), stream: true }, { signal }));
    let output = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content ?? '';
      if (delta) {
        output += delta;
        yield { delta };
      }
    }
    yield { result: await this.review(agent, input, output) };
  }

  /** Maps the gateway's failures to our error codes, keeping its message. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof KgentsError) throw error;
      if (error instanceof OpenAI.APIError) {
        const code = error.status === 429 ? 'RATE_LIMITED' : error.status === 404 ? 'NOT_FOUND' : error.status === 504 ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE';
        // The SDK's message already starts with the status ("503 Morpheus has no LLM backend...").
        throw new KgentsError(code, error.status ? `Morpheus answered ${error.message}` : `Morpheus is unreachable: ${error.message}`);
      }
      throw new KgentsError('UPSTREAM_UNAVAILABLE', `Morpheus is unreachable: ${(error as Error).message}`);
    }
  }
}
