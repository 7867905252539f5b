import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { usesImages, usesTools, type ChatChunk, type ChatRequest, type ChatResponse } from '../canonical.ts';
import { GatewayError } from '../errors.ts';
import { usageFromAnthropic } from '../protocol/anthropic.ts';
import type { Backend, CallOptions } from './types.ts';
import { cliConfigDir, type ClaudeConfigOptions } from './claude-config.ts';
import { firstStop, StopScanner } from './stop-sequences.ts';

/** Linux's limit on one command-line argument (MAX_ARG_STRLEN), terminating zero included. */
const MAX_ARGUMENT_BYTES = 128 * 1024;

interface CliLine {
  type: string;
  subtype?: string;
  is_error?: boolean;
  result?: string;
  message?: { content?: { type: string; text?: string }[] };
  usage?: { input_tokens?: number; output_tokens?: number };
}

/**
 * The `claude` CLI in print mode (`-p`), JSON output (stream-json when streaming). The prompt
 * goes on stdin, never in argv (argv is visible to every process on the machine). Its config
 * and credentials come from CLAUDE_CONFIG_DIR, the mounted Secret's path (or a private working
 * copy of it when it is read-only: see cliConfigDir).
 */
export class ClaudeCliBackend implements Backend {
  readonly kind = 'claude-cli' as const;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly configDir: string | undefined,
    private readonly timeoutMs: number,
    private readonly configOptions: ClaudeConfigOptions = {},
  ) {}

  private preparedConfigDir: Promise<string> | null = null;
  /** Prepared once, at the first call; a failure is reported and retried on the next call. */
  private async cliConfigDir(): Promise<string | undefined> {
    if (!this.configDir) return undefined;
    this.preparedConfigDir ??= cliConfigDir(this.configDir, this.configOptions);
    try {
      return await this.preparedConfigDir;
    } catch (error) {
      this.preparedConfigDir = null;
      throw new GatewayError('UPSTREAM_UNAVAILABLE', `cannot prepare the claude config dir ${this.configDir}: ${(error as Error).message}`);
    }
  }

  private prompt(request: ChatRequest): { system: string; prompt: string } {
    const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
    const turns = request.messages.filter((m) => m.role !== 'system');
    const prompt = turns.length === 1 ? turns[0].content : turns.map((m) => `${m.role === 'user' ? 'Human' : 'Assistant'}: ${m.content}`).join('\n\n');
    return { system, prompt };
  }

  /** Runs the CLI; yields its JSON lines; kills it on abort or timeout. */
  private async *run(request: ChatRequest, format: 'json' | 'stream-json', options: CallOptions): AsyncGenerator<CliLine> {
    // Print mode answers in text: it cannot hand a tool call back to the caller.
    if (usesTools(request)) throw new GatewayError('INVALID_REQUEST', `the claude CLI backend (${this.name}) cannot call the caller's tools; route this model to the Anthropic API or an OpenAI-style backend`);
    if (usesImages(request)) throw new GatewayError('INVALID_REQUEST', `the claude CLI backend (${this.name}) takes text only, not images; route this model to the Anthropic API or an OpenAI-style backend`);
    const { system, prompt } = this.prompt(request);
    // The model and the system prompt go on the command line (the prompt goes on stdin): a
    // model name cannot pass for a flag, and one argument holds at most 128 KiB on Linux.
    if (request.model.startsWith('-')) throw new GatewayError('INVALID_REQUEST', `model "${request.model}" is not a model name`);
    if (system && Buffer.byteLength(system) >= MAX_ARGUMENT_BYTES) {
      throw new GatewayError('INVALID_REQUEST', `the system prompt is ${Buffer.byteLength(system)} bytes; the claude CLI backend (${this.name}) takes at most ${MAX_ARGUMENT_BYTES - 1}`);
    }
    const configDir = await this.cliConfigDir();
    const args = ['-p', '--output-format', format, '--model', request.model, ...(format === 'stream-json' ? ['--verbose'] : []), ...(system ? ['--system-prompt', system] : [])];
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(this.command, args, { env: { ...process.env, ...(configDir ? { CLAUDE_CONFIG_DIR: configDir } : {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      throw new GatewayError('UPSTREAM_UNAVAILABLE', `cannot start the claude CLI (${this.command}): ${(error as Error).message}`);
    }
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-500)));
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new GatewayError('UPSTREAM_UNAVAILABLE', `cannot start the claude CLI (${this.command}): ${e.message}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    let timedOut = false;
    const kill = () => child.kill('SIGTERM');
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, this.timeoutMs);
    const stopFollowing = options.signal.onAbort(kill);
    try {
      await spawned;
      child.stdin.end(prompt);
      for await (const line of createInterface({ input: child.stdout })) {
        if (!line.trim()) continue;
        try {
          yield JSON.parse(line) as CliLine;
        } catch {
          throw new GatewayError('UPSTREAM_UNAVAILABLE', `the claude CLI printed a line that is not JSON: ${JSON.stringify(line.slice(0, 80))}`);
        }
      }
      const code = await exited;
      if (timedOut) throw new GatewayError('UPSTREAM_TIMEOUT', `the claude CLI did not finish within ${this.timeoutMs / 1000} s`);
      if (code !== 0 && !options.signal.aborted) throw new GatewayError('UPSTREAM_UNAVAILABLE', `the claude CLI exited with ${code}: ${stderr.trim()}`);
    } finally {
      clearTimeout(timer);
      stopFollowing();
      if (child.exitCode === null) kill();
    }
  }

  async complete(request: ChatRequest, options: CallOptions): Promise<ChatResponse> {
    for await (const line of this.run(request, 'json', options)) {
      if (line.type !== 'result') continue;
      if (line.is_error || line.subtype !== 'success') throw new GatewayError('UPSTREAM_UNAVAILABLE', `the claude CLI reported an error: ${line.result ?? line.subtype}`);
      const content = line.result ?? '';
      const stop = firstStop(content, request.stop ?? []);
      const ending = stop ? { content: content.slice(0, stop.at), finish: 'stop_sequence' as const, stopSequence: stop.sequence } : { content, finish: 'stop' as const };
      return { id: 'msg_cli', model: request.model, ...ending, usage: usageFromAnthropic(line.usage) };
    }
    throw new GatewayError('UPSTREAM_UNAVAILABLE', 'the claude CLI printed no result');
  }

  /**
   * At a stop sequence the stream ends and the CLI is stopped (leaving the loop kills it), before
   * it has reported its token counts: that answer's done carries none.
   */
  async *stream(request: ChatRequest, options: CallOptions): AsyncGenerator<ChatChunk> {
    const scanner = new StopScanner(request.stop ?? []);
    for await (const line of this.run(request, 'stream-json', options)) {
      if (line.type === 'assistant') {
        const { out, stopped } = scanner.push((line.message?.content ?? []).filter((b) => b.type === 'text').map((b) => b.text ?? '').join(''));
        if (out) yield { type: 'delta', text: out };
        if (stopped !== undefined) {
          yield { type: 'done', finish: 'stop_sequence', stopSequence: stopped };
          return;
        }
      }
      if (line.type === 'result') {
        if (line.is_error || line.subtype !== 'success') throw new GatewayError('UPSTREAM_UNAVAILABLE', `the claude CLI reported an error: ${line.result ?? line.subtype}`);
        const rest = scanner.flush();
        if (rest) yield { type: 'delta', text: rest };
        yield { type: 'done', finish: 'stop', usage: usageFromAnthropic(line.usage) };
        return;
      }
    }
    throw new GatewayError('UPSTREAM_UNAVAILABLE', 'the claude CLI stream ended without a result');
  }
}
