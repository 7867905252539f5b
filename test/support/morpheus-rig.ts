import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startMorpheus, type Morpheus } from '../../nucleus/morpheus/index.ts';
import { startFakeLlm, type FakeLlm } from './fake-llm-upstream.ts';
import { REPO_ROOT } from './tmp.ts';

export const ANTHROPIC_SECRET = 'sk-ant-test-0123456789-very-secret';

/**
 * A real Morpheus in front of the FAKE LLM upstream (both API styles) and the FAKE `claude`
 * CLI, put first on PATH. Routes: `gpt*` -> OpenAI-style, `claude-cli*` -> the CLI,
 * `claude*` -> Anthropic-style. Logs are captured so tests can search them for secrets.
 */
export interface MorpheusRig {
  morpheus: Morpheus;
  upstream: FakeLlm;
  logs: string[];
  /** Sets the fake CLI's behaviour: ok | slow | fail. */
  cliMode(mode: 'ok' | 'slow' | 'fail'): void;
  cliCalls(): { args: string[]; configDir: string | null; pid: number; prompt: string }[];
  close(): Promise<void>;
}

/** `config` overrides the defaults; a function gets the fake upstream's URL, to point backends at it. */
export async function startMorpheusRig(config: Record<string, unknown> | ((upstreamUrl: string) => Record<string, unknown>) = {}, env: Record<string, string> = {}): Promise<MorpheusRig> {
  const dir = mkdtempSync(join(tmpdir(), 'kgents-morpheus-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  copyFileSync(join(REPO_ROOT, 'test', 'support', 'fake-claude', 'claude'), join(bin, 'claude'));
  chmodSync(join(bin, 'claude'), 0o755);
  if (!process.env.PATH?.startsWith(bin)) process.env.PATH = `${bin}${delimiter}${process.env.PATH}`;
  const keyFile = join(dir, 'anthropic-key');
  writeFileSync(keyFile, `${ANTHROPIC_SECRET}\n`);
  const upstream = await startFakeLlm();
  const configFile = join(dir, 'morpheus.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      backends: [
        { kind: 'openai', name: 'openai', baseUrl: `${upstream.url}/v1` },
        { kind: 'anthropic', name: 'anthropic', baseUrl: upstream.url },
        { kind: 'claude-cli', name: 'claude-cli', configDir: join(dir, 'claude-auth') },
      ],
      routes: [
        { prefix: 'gpt', backends: ['openai'] },
        { prefix: 'claude-cli', backends: ['claude-cli'] },
        { prefix: 'claude', backends: ['anthropic'] },
      ],
      retries: 1,
      ...(typeof config === 'function' ? config(upstream.url) : config),
    }),
  );
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) }));
  const morpheus = await startMorpheus({ port: 0, env: { ANTHROPIC_API_KEY_FILE: keyFile, ...env }, configFile, logger });
  return {
    morpheus,
    upstream,
    logs,
    cliMode: (mode) => writeFileSync(join(bin, 'mode'), mode),
    cliCalls: () => {
      try {
        return readFileSync(join(bin, 'calls.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      } catch {
        return [];
      }
    },
    close: async () => {
      await morpheus.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

