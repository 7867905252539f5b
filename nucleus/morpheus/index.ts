import { listen } from '../../common/listen.ts';
import { createLogger, type Logger } from '../../common/log.ts';
import { createMorpheusApp } from './app.ts';
import { ApiKeys } from './auth.ts';
import { loadConfig } from './config.ts';
import { Gateway } from './gateway.ts';
import { createMorpheusMetrics } from './metrics.ts';
import { openAiErrorBody } from './protocol/openai.ts';

export interface MorpheusOptions {
  port?: number;
  host?: string;
  env?: Record<string, string | undefined>;
  configFile?: string;
  logger?: Logger;
}

export interface Morpheus {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the gateway. With no backend configured it still starts, and says what to set. */
export async function startMorpheus(opts: MorpheusOptions = {}): Promise<Morpheus> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? createLogger('morpheus');
  const loaded = loadConfig(env, opts.configFile);
  const metrics = createMorpheusMetrics();
  const gateway = new Gateway(loaded, logger);
  const app = createMorpheusApp({ gateway, metrics, keys: new ApiKeys(env.MORPHEUS_API_KEYS), secrets: loaded.secrets, logger, maxBodyBytes: loaded.config.maxBodyBytes });
  if (loaded.missing.length) logger.warn(`no LLM backend configured: ${loaded.missing.join('; ')}`);
  else logger.info({ backends: gateway.backends.map((b) => `${b.name} (${b.kind})`), routes: loaded.config.routes }, 'backends ready');
  const { url, port, close } = await listen(app.fetch, { port: opts.port ?? 8080, host: opts.host ?? '127.0.0.1', errorBody: (status, message) => openAiErrorBody(status, message, null) });
  return { url, port, close };
}
