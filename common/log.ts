import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';

/**
 * `KGENTS_LOG_FORMAT` when set; otherwise one line a person reads when stderr is a terminal,
 * and JSON for whatever collects logs (a pipe, a file, a pod).
 */
export function logFormat(env: Record<string, string | undefined>, isTty: boolean): LogFormat {
  const chosen = env.KGENTS_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  return isTty ? 'pretty' : 'json';
}

/** pino-pretty on stderr, loaded only when used, writing synchronously (no worker thread). */
function prettyStderr(): DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (options: object) => DestinationStream;
  return pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' });
}

/**
 * One logger for the process, on stderr (stdout stays free for command output such as
 * `kgents scaffold`); `KGENTS_LOG_LEVEL` picks the level, and tests default to silent.
 */
export function createLogger(name: string, level = process.env.KGENTS_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info')): Logger {
  const options = { name, level, redact: { paths: ['*.authorization', '*.apiKey', '*.api_key', '*.headers.authorization', '*.headers["x-api-key"]'], censor: '[redacted]' } };
  const format = logFormat(process.env, process.stderr.isTTY === true);
  return pino(options, format === 'pretty' ? prettyStderr() : pino.destination(2));
}

export type { Logger };
