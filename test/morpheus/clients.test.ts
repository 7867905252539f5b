import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANTHROPIC_SECRET, startMorpheusRig, type MorpheusRig } from '../support/morpheus-rig.ts';

let rig: MorpheusRig;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  rig = await startMorpheusRig();
  // The official clients, with only the base URL changed.
  openai = new OpenAI({ baseURL: `${rig.morpheus.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: rig.morpheus.url, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => rig?.close());

/** Morpheus's count of completion tokens for a model, from its metrics. */
async function tokensOut(model: string): Promise<number> {
  const text = await (await fetch(`${rig.morpheus.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('morpheus_tokens_out_total{') && l.includes(`model="${model}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const prompt = 'hello wide world';
/** model -> the answer its backend gives, and the tokens it reports in. */
const backends = [
  { style: 'OpenAI-style upstream', model: 'gpt-4o-mini', reply: `echo: ${prompt}`, inputTokens: 7 },
  { style: 'Anthropic-style upstream', model: 'claude-sonnet-4', reply: `echo: ${prompt}`, inputTokens: 7 },
  { style: 'claude CLI', model: 'claude-cli-sonnet', reply: `cli(claude-cli-sonnet): ${prompt}`, inputTokens: 11 },
];

describe.each(backends)('through the $style', ({ model, reply, inputTokens }) => {
  it('openai client, non-streaming', async () => {
    const completion = await openai.chat.completions.create({ model, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: prompt }] });
    expect(completion.choices[0].message.content).toBe(reply);
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens).toBe(inputTokens);
    expect(completion.usage?.completion_tokens).toBe(reply.split(' ').length);
  });

  it('openai client, streaming (chunks, usage, [DONE])', async () => {
    const stream = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(reply);
    expect(chunks).toBeGreaterThan(2);
    expect(finish).toBe('stop');
    expect(usage?.prompt_tokens).toBe(inputTokens);
  });

  it('sends a request to a backend of its own API as sent: message names, prompt caching, system blocks, beta features', async () => {
    const messages = [{ role: 'user' as const, content: 'hi', name: 'alice' }];
    await openai.chat.completions.create({ model: 'gpt-4o', messages, seed: 7, logit_bias: { '50256': -100 } });
    expect(rig.upstream.requests.at(-1)!.body).toEqual({ model: 'gpt-4o', messages, seed: 7, logit_bias: { '50256': -100 } });
    const request = {
      model: 'claude-3',
      max_tokens: 64,
      stop_sequences: ['END'],
      system: [
        { type: 'text' as const, text: 'A long system prompt', cache_control: { type: 'ephemeral' as const } },
        { type: 'text' as const, text: 'Part two' },
      ],
      messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'first', cache_control: { type: 'ephemeral' as const } }, { type: 'text' as const, text: 'second' }] }],
    };
    const message = await anthropic.messages.create(request, { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } });
    expect(rig.upstream.requests.at(-1)!.body).toEqual(request);
    // The beta features the client asked for, which the backend needs to hear of too.
    expect(rig.upstream.requests.at(-1)!.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    // The answer as the backend gave it: its own id, not one Morpheus made up.
    expect(message.id).toBe('msg_fake');
  });

  it('asks a stream of its own API for token counts, and keeps them from a client that did not ask', async () => {
    const before = await tokensOut('gpt-4o');
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'one two three' }], stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(rig.upstream.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe('echo: one two three');
    expect(await tokensOut('gpt-4o')).toBe(before + 4);
  });

  it('anthropic client, non-streaming', async () => {
    const message = await anthropic.messages.create({ model, max_tokens: 64, system: 'be brief', messages: [{ role: 'user', content: prompt }] });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: reply })]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBe(inputTokens);
    expect(message.usage.output_tokens).toBe(reply.split(' ').length);
  });

  it('anthropic client, streaming (the Messages event sequence)', async () => {
    const stream = anthropic.messages.stream({ model, max_tokens: 64, messages: [{ role: 'user', content: prompt }] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const message = await stream.finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'text', text: reply });
    expect(message.usage.output_tokens).toBe(reply.split(' ').length);
    const order = ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'];
    expect(types.filter((t, i) => types.indexOf(t) === i)).toEqual(order);
    expect(types.filter((t) => t === 'content_block_delta').length).toBeGreaterThan(1);
  });
});

describe('translation', () => {
  it('turns an Anthropic request into an OpenAI one (system prompt first, max_tokens kept)', async () => {
    await anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 33, system: 'be brief', messages: [{ role: 'user', content: 'translate me' }] });
    const sent = rig.upstream.requests.at(-1)!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 33, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'translate me' }] });
  });

  it('turns an OpenAI request into an Anthropic one, with the key from ANTHROPIC_API_KEY_FILE', async () => {
    await openai.chat.completions.create({ model: 'claude-sonnet-4', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'translate me' }] });
    const sent = rig.upstream.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(ANTHROPIC_SECRET);
    expect(sent.body).toMatchObject({ model: 'claude-sonnet-4', system: 'be brief', messages: [{ role: 'user', content: 'translate me' }] });
    // Anthropic requires max_tokens; an OpenAI client that sent none gets what any Claude model can write.
    expect(sent.body.max_tokens).toBe(4096);
  });

  it("passes an API's own sampling knobs and labels to a backend of that API, and leaves them out for the other", async () => {
    const knobs = { seed: 7, presence_penalty: 0.5, frequency_penalty: 0.25, user: 'agent-7', logit_bias: { '50256': -100 } };
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'same API' }], ...knobs });
    expect(rig.upstream.requests.at(-1)!.body).toMatchObject(knobs);
    await openai.chat.completions.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'other API' }], ...knobs });
    const toAnthropic = rig.upstream.requests.at(-1)!.body;
    for (const name of Object.keys(knobs)) expect(toAnthropic, name).not.toHaveProperty(name);

    // max_completion_tokens stays as sent to OpenAI (its reasoning models refuse max_tokens), and is max_tokens elsewhere.
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 21 });
    expect(rig.upstream.requests.at(-1)!.body).toMatchObject({ max_completion_tokens: 21 });
    expect(rig.upstream.requests.at(-1)!.body).not.toHaveProperty('max_tokens');
    await openai.chat.completions.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 21 });
    expect(rig.upstream.requests.at(-1)!.body).toMatchObject({ max_tokens: 21 });

    // Fields this client's types do not know yet (top_k) pass as well.
    const labels = { metadata: { user_id: 'u1' }, service_tier: 'auto' as const, top_k: 5 };
    await anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 16, messages: [{ role: 'user', content: 'same API' }], ...labels });
    expect(rig.upstream.requests.at(-1)!.body).toMatchObject(labels);
    await anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'other API' }], ...labels });
    for (const name of Object.keys(labels)) expect(rig.upstream.requests.at(-1)!.body, name).not.toHaveProperty(name);
  });

  it('runs the claude CLI in print mode with JSON output, the prompt on stdin and the Secret path as config dir', async () => {
    await openai.chat.completions.create({ model: 'claude-cli-haiku', messages: [{ role: 'user', content: 'secret prompt' }] });
    await openai.chat.completions.create({ model: 'claude-cli-haiku', messages: [{ role: 'user', content: 'streamed' }], stream: true }).then(async (s) => {
      for await (const _ of s);
    });
    const [plain, streamed] = rig.cliCalls().slice(-2);
    expect(plain.args).toEqual(expect.arrayContaining(['-p', '--output-format', 'json', '--model', 'claude-cli-haiku']));
    expect(plain.args.join(' ')).not.toContain('secret prompt');
    expect(plain.prompt).toBe('secret prompt');
    expect(plain.configDir).toMatch(/claude-auth$/);
    expect(streamed.args).toEqual(expect.arrayContaining(['--output-format', 'stream-json']));
  });
});

describe('stop sequences on the claude CLI, which has no such option: Morpheus cuts the answer', () => {
  // The fake CLI answers `cli(<model>): <prompt>`, streamed a word at a time: " ST" + "OP" spans two pieces.
  const model = 'claude-cli-sonnet';
  const content = 'alpha beta STOP gamma';

  it('openai client, whole and streamed: the text ends before the sequence, even one spanning pieces', async () => {
    const whole = await openai.chat.completions.create({ model, messages: [{ role: 'user', content }], stop: ['zzz', 'a STOP'] });
    expect(whole.choices[0].message.content).toBe(`cli(${model}): alpha bet`);
    expect(whole.choices[0].finish_reason).toBe('stop');
    let streamed = '';
    let finish: string | null = null;
    for await (const chunk of await openai.chat.completions.create({ model, messages: [{ role: 'user', content }], stop: 'beta ST', stream: true })) {
      streamed += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect([streamed, finish]).toEqual([`cli(${model}): alpha `, 'stop']);
  });

  it('anthropic client, whole and streamed: stop_reason stop_sequence, naming which', async () => {
    const whole = await anthropic.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content }], stop_sequences: ['gamma', 'STOP'] });
    expect(whole.content.map((b) => (b.type === 'text' ? b.text : ''))).toEqual([`cli(${model}): alpha beta `]);
    expect([whole.stop_reason, whole.stop_sequence]).toEqual(['stop_sequence', 'STOP']);
    const streamed = await anthropic.messages.stream({ model, max_tokens: 64, messages: [{ role: 'user', content }], stop_sequences: ['TOP g'] }).finalMessage();
    expect(streamed.content.map((b) => (b.type === 'text' ? b.text : '')).join('')).toBe(`cli(${model}): alpha beta S`);
    expect([streamed.stop_reason, streamed.stop_sequence]).toEqual(['stop_sequence', 'TOP g']);
  });

  it('with no sequence in the answer, it comes whole, the held-back end included', async () => {
    let streamed = '';
    for await (const chunk of await openai.chat.completions.create({ model, messages: [{ role: 'user', content }], stop: ['never said anywhere'], stream: true })) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(`cli(${model}): ${content}`);
  });
});

describe('other endpoints', () => {
  it('refuses a system prompt too long for one command-line argument: 400, without starting the CLI', async () => {
    const calls = rig.cliCalls().length;
    const long = await anthropic.messages.create({ model: 'claude-cli-sonnet', max_tokens: 16, system: 'x'.repeat(200_000), messages: [{ role: 'user', content: 'hi' }] }).then(() => null, (e) => e);
    expect(long.status).toBe(400);
    expect(long.error.error.message).toContain('the system prompt is 200000 bytes');
    expect(rig.cliCalls().length).toBe(calls);
  });

  it('lists models from the backends and the routes', async () => {
    const ids = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['fake-model', 'gpt*', 'claude*']));
  });

  it('finds one model by id, and answers an unknown one or path in the API of its path', async () => {
    expect(await openai.models.retrieve('fake-model')).toMatchObject({ id: 'fake-model', object: 'model' });
    expect(await openai.models.retrieve('no-such-model').catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    const count = await anthropic.messages.countTokens({ model: 'claude-3', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(count).toBeInstanceOf(Anthropic.NotFoundError);
    expect(count.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('passes embeddings on to a backend that has them', async () => {
    const result = await openai.embeddings.create({ model: 'gpt-embed', input: 'hi' });
    expect(result.data[0].embedding).toEqual([0.25, 0.5, 0.75]);
    expect(rig.upstream.requests.at(-1)!.path).toBe('/v1/embeddings');
  });

  it('takes token arrays as embeddings input, one or several', async () => {
    for (const input of [[1234, 5678], [[1234], [5678, 9]]]) {
      const result = await openai.embeddings.create({ model: 'gpt-embed', input, encoding_format: 'float' });
      expect(result.data[0].embedding).toEqual([0.25, 0.5, 0.75]);
      expect(rig.upstream.requests.at(-1)!.body.input).toEqual(input);
    }
  });

  it('takes null for an optional OpenAI field, as the API does', async () => {
    const response = await fetch(`${rig.morpheus.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stop: null, temperature: null, max_tokens: null, n: null, stream: null, tools: null, tool_choice: null }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ choices: [{ message: { content: 'echo: hi' } }] });
  });

  it('answers 404 in OpenAI shape for embeddings on a backend without them', async () => {
    const error = await openai.embeddings.create({ model: 'claude-sonnet-4', input: 'hi' }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('reports health, metrics by model and backend, and its own overhead', async () => {
    const health = await fetch(`${rig.morpheus.url}/healthz`);
    expect(health.status).toBe(200);
    // An upstream that takes 300 ms: the header counts Morpheus's own work, not the wait.
    rig.upstream.fault = 'slow';
    rig.upstream.delayMs = 300;
    try {
      const sent = performance.now();
      const response = await fetch(`${rig.morpheus.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }) });
      await response.text();
      expect(performance.now() - sent).toBeGreaterThanOrEqual(300);
      const overhead = Number(response.headers.get('x-morpheus-overhead-ms'));
      expect(overhead).toBeGreaterThan(0);
      expect(overhead).toBeLessThan(100);
    } finally {
      rig.upstream.fault = 'none';
      rig.upstream.delayMs = 5_000;
    }
    const metrics = await (await fetch(`${rig.morpheus.url}/metrics`)).text();
    expect(metrics).toMatch(/morpheus_requests_total\{[^}]*model="gpt-4o-mini"[^}]*\} \d+/);
    expect(metrics).toMatch(/morpheus_tokens_in_total\{model="gpt-4o-mini",backend="openai"\} \d+/);
    expect(metrics).toContain('morpheus_time_to_first_token_seconds_bucket');
    expect(metrics).toContain('morpheus_queue_depth');
    expect(metrics).toContain('morpheus_in_flight');
  });
});

describe('beyond text chat: tools, images, JSON mode', () => {
  const lookup = { type: 'function' as const, function: { name: 'lookup', description: 'find a thing', parameters: { type: 'object', properties: { q: { type: 'string' } } } } };

  it('an OpenAI client gets tool calls from an OpenAI-style backend, whole and streamed, and sends tool results back', async () => {
    const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'weather in Oslo' }], tools: [lookup], tool_choice: 'auto' });
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(completion.choices[0].message.tool_calls).toEqual([{ id: 'call_fake', type: 'function', function: { name: 'lookup', arguments: '{"q":"weather in Oslo"}' } }]);
    expect(rig.upstream.requests.at(-1)!.body).toMatchObject({ tools: [lookup], tool_choice: 'auto' });

    const timed = async () => Number(/^morpheus_request_duration_seconds_count\{model="gpt-4o-mini",backend="openai"\} (\d+)$/m.exec(await (await fetch(`${rig.morpheus.url}/metrics`)).text())?.[1] ?? 0);
    const timedBefore = await timed();
    const tokensOut = async () => Number(/^morpheus_tokens_out_total\{model="gpt-4o-mini",backend="openai"\} (\d+)$/m.exec(await (await fetch(`${rig.morpheus.url}/metrics`)).text())?.[1] ?? 0);
    const outBefore = await tokensOut();
    const chunks = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'streamed' }], tools: [lookup], stream: true, stream_options: { include_usage: true } });
    let args = '';
    let reported = 0;
    for await (const chunk of chunks) {
      args += chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '';
      reported = chunk.usage?.completion_tokens ?? reported;
    }
    expect(JSON.parse(args)).toEqual({ q: 'streamed' });
    expect(await timed()).toBe(timedBefore + 1); // the stream's duration, once it ended
    expect(reported).toBeGreaterThan(0);
    expect(await tokensOut()).toBe(outBefore + reported); // read off the stream as it passed

    // The tool's result goes back in the history; the backend gets that history as sent.
    const history = [
      { role: 'user' as const, content: 'weather in Oslo' },
      { role: 'assistant' as const, content: null, tool_calls: completion.choices[0].message.tool_calls! },
      { role: 'tool' as const, tool_call_id: 'call_fake', content: '4 degrees' },
    ];
    const answer = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: history });
    expect(answer.choices[0].message.content).toBe('echo: weather in Oslo');
    expect(rig.upstream.requests.at(-1)!.body.messages).toEqual(history);
  });

  it('an Anthropic client gets tool use from the Anthropic API, whole and streamed', async () => {
    const tool = { name: 'lookup', description: 'find a thing', input_schema: { type: 'object' as const, properties: { q: { type: 'string' } } } };
    const message = await anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 64, messages: [{ role: 'user', content: 'weather in Oslo' }], tools: [tool] });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([{ type: 'tool_use', id: 'toolu_fake', name: 'lookup', input: { q: 'weather in Oslo' } }]);
    const tokens = async () => {
      const text = await (await fetch(`${rig.morpheus.url}/metrics`)).text();
      const read = (name: string) => Number(new RegExp(`^${name}\\{model="claude-sonnet-4",backend="anthropic"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      return { input: read('morpheus_tokens_in_total'), output: read('morpheus_tokens_out_total') };
    };
    const before = await tokens();
    const streamed = await anthropic.messages.stream({ model: 'claude-sonnet-4', max_tokens: 64, messages: [{ role: 'user', content: 'streamed' }], tools: [tool] }).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: 'tool_use', input: { q: 'streamed' } });
    // Read off the stream as it passed through.
    expect(await tokens()).toEqual({ input: before.input + streamed.usage.input_tokens, output: before.output + streamed.usage.output_tokens });
  });

  it('JSON mode reaches an OpenAI-style backend as asked, and its tokens are counted', async () => {
    const before = await (await fetch(`${rig.morpheus.url}/metrics`)).text();
    const count = (text: string) => Number(/^morpheus_tokens_out_total\{model="gpt-4o-json",backend="[^"]+"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const completion = await openai.chat.completions.create({ model: 'gpt-4o-json', messages: [{ role: 'user', content: 'as json please' }], response_format: { type: 'json_object' } });
    expect(completion.choices[0].message.content).toBe('echo: as json please');
    expect(rig.upstream.requests.at(-1)!.body).toMatchObject({ response_format: { type: 'json_object' } });
    expect(count(await (await fetch(`${rig.morpheus.url}/metrics`)).text()) - count(before)).toBe(completion.usage!.completion_tokens);
  });

  it('translates tools, tool calls and tool results from an OpenAI client to the Anthropic API, whole and streamed', async () => {
    const completion = await openai.chat.completions.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'weather in Oslo' }], tools: [lookup], tool_choice: 'required' });
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(completion.choices[0].message.tool_calls).toEqual([{ id: 'toolu_fake', type: 'function', function: { name: 'lookup', arguments: '{"q":"weather in Oslo"}' } }]);
    expect(rig.upstream.requests.at(-1)!.body).toMatchObject({ tools: [{ name: 'lookup', description: 'find a thing', input_schema: lookup.function.parameters }], tool_choice: { type: 'any' } });

    // One call at most: OpenAI's parallel_tool_calls is Anthropic's disable_parallel_tool_use.
    await openai.chat.completions.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'one at a time' }], tools: [lookup], parallel_tool_calls: false });
    expect(rig.upstream.requests.at(-1)!.body.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });

    const chunks = await openai.chat.completions.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'streamed' }], tools: [lookup], stream: true });
    let args = '';
    let finish: string | null = null;
    for await (const chunk of chunks) {
      args += chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect([JSON.parse(args), finish]).toEqual([{ q: 'streamed' }, 'tool_calls']);

    await openai.chat.completions.create({
      model: 'claude-sonnet-4',
      messages: [
        { role: 'user', content: 'weather in Oslo and Bergen' },
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'lookup', arguments: '{"q":"Oslo"}' } }, { id: 't2', type: 'function', function: { name: 'lookup', arguments: '{"q":"Bergen"}' } }] },
        { role: 'tool', tool_call_id: 't1', content: '4 degrees' },
        { role: 'tool', tool_call_id: 't2', content: '9 degrees' },
      ],
    });
    expect(rig.upstream.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'weather in Oslo and Bergen' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: { q: 'Oslo' } }, { type: 'tool_use', id: 't2', name: 'lookup', input: { q: 'Bergen' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: '4 degrees' }, { type: 'tool_result', tool_use_id: 't2', content: '9 degrees' }] },
    ]);
  });

  it('translates tools, tool use and tool results from an Anthropic client to an OpenAI-style backend, whole and streamed', async () => {
    const tool = { name: 'lookup', description: 'find a thing', input_schema: { type: 'object' as const, properties: { q: { type: 'string' } } } };
    const message = await anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'weather in Oslo' }], tools: [tool], tool_choice: { type: 'tool', name: 'lookup' } });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([{ type: 'tool_use', id: 'call_fake', name: 'lookup', input: { q: 'weather in Oslo' } }]);
    expect(rig.upstream.requests.at(-1)!.body).toMatchObject({ tools: [{ type: 'function', function: { name: 'lookup', description: 'find a thing', parameters: tool.input_schema } }], tool_choice: { type: 'function', function: { name: 'lookup' } } });

    await anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'one at a time' }], tools: [tool], tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
    expect(rig.upstream.requests.at(-1)!.body).toMatchObject({ tool_choice: 'auto', parallel_tool_calls: false });

    const streamed = await anthropic.messages.stream({ model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'streamed' }], tools: [tool] }).finalMessage();
    expect(streamed.stop_reason).toBe('tool_use');
    expect(streamed.content).toEqual([{ type: 'tool_use', id: 'call_fake', name: 'lookup', input: { q: 'streamed' } }]);

    await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 64,
      messages: [
        { role: 'user', content: 'weather in Oslo' },
        { role: 'assistant', content: [{ type: 'text', text: 'Looking.' }, { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '4 degrees' }, { type: 'text', text: 'and tomorrow?' }] },
      ],
    });
    expect(rig.upstream.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'weather in Oslo' },
      { role: 'assistant', content: 'Looking.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '4 degrees' },
      { role: 'user', content: 'and tomorrow?' },
    ]);

    // A failed tool: OpenAI's tool message has no flag for it, so its text says so.
    await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 64,
      messages: [
        { role: 'user', content: 'weather in Oslo' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'lookup', input: { q: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'service unavailable', is_error: true }] },
      ],
    });
    expect((rig.upstream.requests.at(-1)!.body as { messages: unknown[] }).messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'toolu_2', content: 'Error: service unavailable' });
  });

  it('keeps text blocks and parts apart across APIs, system prompts included, rather than running them together', async () => {
    await anthropic.messages.create({
      model: 'gpt-4o',
      max_tokens: 16,
      system: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] }],
    });
    const toOpenAi = rig.upstream.requests.at(-1)!.body as { messages: { role: string; content: unknown }[] };
    expect(toOpenAi.messages).toEqual([
      { role: 'system', content: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.' }] },
      { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] },
    ]);
    await openai.chat.completions.create({
      model: 'claude-3',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] },
      ],
    });
    const toAnthropic = rig.upstream.requests.at(-1)!.body as { system: unknown; messages: unknown };
    expect(toAnthropic.system).toEqual([{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.' }]);
    expect(toAnthropic.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] }]);
  });

  it('translates images both ways, inline and by URL, keeping their place among the text', async () => {
    const png = 'iVBORw0KGgo=';
    await openai.chat.completions.create({
      model: 'claude-sonnet-4',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'compare' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }, { type: 'image_url', image_url: { url: 'https://example.com/b.jpg' } }] }],
    });
    expect(rig.upstream.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'compare' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }, { type: 'image', source: { type: 'url', url: 'https://example.com/b.jpg' } }] },
    ]);
    await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 16,
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }, { type: 'text', text: 'what is it?' }] }],
    });
    expect(rig.upstream.requests.at(-1)!.body.messages).toEqual([{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }, { type: 'text', text: 'what is it?' }] }]);
  });

  it('refuses with 400, naming what, what neither a backend of its API nor translation can carry', async () => {
    const before = rig.upstream.requests.length;
    const pdf = [{ type: 'document' as const, source: { type: 'base64' as const, media_type: 'application/pdf' as const, data: 'JVBERi0=' } }];
    const crossed = await anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: pdf }] }).catch((e: unknown) => e);
    expect(crossed).toBeInstanceOf(Anthropic.BadRequestError);
    expect((crossed as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { message: 'content blocks other than text, images and tools (documents...): Morpheus passes these on only to a backend that speaks the Anthropic API, and model "gpt-4o-mini" goes to none' } });
    const cli = await openai.chat.completions.create({ model: 'claude-cli-sonnet', messages: [{ role: 'user', content: 'x' }], tools: [lookup] }).catch((e: unknown) => e);
    expect(cli).toBeInstanceOf(OpenAI.BadRequestError);
    expect((cli as InstanceType<typeof OpenAI.APIError>).message).toContain("the claude CLI backend (claude-cli) cannot call the caller's tools");
    const picture = await openai.chat.completions.create({ model: 'claude-cli-sonnet', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] }).catch((e: unknown) => e);
    expect((picture as InstanceType<typeof OpenAI.APIError>).message).toContain('the claude CLI backend (claude-cli) takes text only, not images');
    expect(rig.upstream.requests.length).toBe(before);
  });
});
