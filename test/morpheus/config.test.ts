import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../nucleus/morpheus/config.ts';
import { scratchProject } from '../support/tmp.ts';

describe('Morpheus configuration from the environment', () => {
  it('gives each backend the variables it names and the schema defaults for the rest', () => {
    const { config, missing } = loadConfig({ MORPHEUS_UPSTREAM_URL: 'http://vllm:8000/v1', MORPHEUS_CLAUDE_CLI: '1', MORPHEUS_CLAUDE_MAX_CONCURRENT: '2', CLAUDE_CONFIG_DIR: '/var/run/secrets/claude' });
    expect(missing).toEqual([]);
    expect(config.backends).toEqual([
      { kind: 'openai', name: 'openai', baseUrl: 'http://vllm:8000/v1', apiKeyEnv: 'OPENAI_API_KEY', maxConcurrent: 64 },
      { kind: 'claude-cli', name: 'claude-cli', command: 'claude', configDir: '/var/run/secrets/claude', maxConcurrent: 2, timeoutMs: 120_000 },
    ]);
    expect(loadConfig({ ANTHROPIC_API_KEY: 'k' }).config.backends).toEqual([{ kind: 'anthropic', name: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKeyEnv: 'ANTHROPIC_API_KEY', maxConcurrent: 64 }]);
  });

  it('refuses a misspelt key in the config file, naming it, instead of leaving the setting at its default', () => {
    const file = join(scratchProject('morpheus-config'), 'morpheus.yaml');
    writeFileSync(file, 'backendz: []\nroutes:\n  - prefix: gpt\n    backend: [openai]\n');
    expect(() => loadConfig({}, file)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('backendz'), details: expect.objectContaining({ file }) }));
  });

  it('refuses a bad value at start, naming the variable', () => {
    expect(() => loadConfig({ MORPHEUS_UPSTREAM_URL: 'not a url' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/^MORPHEUS_UPSTREAM_URL: /) }));
    expect(() => loadConfig({ MORPHEUS_CLAUDE_CLI: '1', MORPHEUS_CLAUDE_MAX_CONCURRENT: 'lots' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/^MORPHEUS_CLAUDE_MAX_CONCURRENT: /) }));
  });

  it('reads MORPHEUS_ROUTES as prefix=backend|fallback rules, and refuses a rule it cannot read, naming it', () => {
    const backends = { MORPHEUS_UPSTREAM_URL: 'http://vllm:8000/v1', ANTHROPIC_API_KEY: 'k' };
    expect(loadConfig({ ...backends, MORPHEUS_ROUTES: 'claude = anthropic | openai, *=openai' }).config.routes).toEqual([
      { prefix: 'claude', backends: ['anthropic', 'openai'] },
      { prefix: '', backends: ['openai'] },
    ]);
    for (const [routes, rule] of [['garbage', 'garbage'], ['*=openai,,', ''], ['claude=anthropic|', 'claude=anthropic|']]) {
      expect(() => loadConfig({ ...backends, MORPHEUS_ROUTES: routes })).toThrow(
        expect.objectContaining({ code: 'INVALID_CONFIG', details: { field: 'MORPHEUS_ROUTES' }, message: expect.stringMatching(new RegExp(`^expected rules <model prefix>=<backend>.*got ${JSON.stringify(rule).replace(/[|*]/g, '\\$&')}$`)) }),
      );
    }
  });
});
