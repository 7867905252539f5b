import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { logFormat } from '../../common/log.ts';
import { REPO_ROOT } from '../support/tmp.ts';

describe('log format', () => {
  it('is readable on a terminal and JSON anywhere else, unless KGENTS_LOG_FORMAT says', () => {
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ KGENTS_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ KGENTS_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(logFormat({ KGENTS_LOG_FORMAT: 'fancy' }, false)).toBe('json');
  });

  it.each([
    ['pretty', /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(morpheus\): no LLM backend configured: set MORPHEUS_UPSTREAM_URL/m],
    ['json', /^\{"level":40,"time":\d+,"pid":\d+,"hostname":"[^"]*","name":"morpheus","msg":"no LLM backend configured: set MORPHEUS_UPSTREAM_URL/m],
  ])('%s: what Morpheus logs when no backend is set', (format, line) => {
    const { KGENTS_LOG_LEVEL: _level, VITEST: _vitest, MORPHEUS_UPSTREAM_URL: _url, ANTHROPIC_API_KEY: _key, ...env } = process.env;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', "await (await import('./nucleus/morpheus/index.ts')).startMorpheus({ port: 0 }).then((m) => m.close())"], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...env, KGENTS_LOG_FORMAT: format },
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(line);
  });
});
