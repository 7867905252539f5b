import { InvalidArgumentError, Option } from 'commander';
import { KgentsError } from '../common/errors.ts';
import { isHttpUrl, protocolOf } from '../common/url.ts';

// Option values are checked as the command line is read: a bad one is a usage error (exit 64)
// that names the option, before anything builds, connects or listens.

export function portNumber(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return Number(value);
}

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}

export function positiveNumber(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) === 0) throw new InvalidArgumentError('expected a number above 0.');
  return Number(value);
}

export function httpUrl(value: string): string {
  if (!isHttpUrl(value)) throw new InvalidArgumentError('expected an http:// or https:// URL.');
  return value;
}

/**
 * A Redis URL from `--redis` or KGENTS_REDIS_URL. Checked in the action rather than by a parser,
 * because commander does not parse defaults, and the default comes from the environment.
 */
export function checkRedisUrl(url: string | undefined): void {
  if (!url) return; // unset, or set empty: the in-memory store
  if (!/^rediss?:$/.test(protocolOf(url))) {
    // The value is not echoed: a Redis URL may carry a password.
    throw new KgentsError('INVALID_REQUEST', 'expected a redis:// or rediss:// URL, such as redis://127.0.0.1:6379', { field: '--redis (or KGENTS_REDIS_URL)' });
  }
}

/**
 * `--redis <url>`, falling back to KGENTS_REDIS_URL. Read from the environment by commander,
 * not given as a default: `--help` prints defaults, and the URL may hold a password.
 */
export function redisOption(description: string): Option {
  return new Option('--redis <url>', description).env('KGENTS_REDIS_URL');
}
