import { pino, type Logger } from 'pino';

/**
 * One logger for the process. JSON to stderr (stdout stays free for command output such as
 * `kgents scaffold`); `KGENTS_LOG_LEVEL` picks the level, and tests default to silent.
 */
export function createLogger(name: string, level = process.env.KGENTS_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info')): Logger {
  return pino({ name, level, redact: { paths: ['*.authorization', '*.apiKey', '*.api_key', '*.headers.authorization', '*.headers["x-api-key"]'], censor: '[redacted]' } }, pino.destination(2));
}

export type { Logger };
