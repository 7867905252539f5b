import { KgentsError, type ErrorCode } from '../../common/errors.ts';
import type { Api } from './canonical.ts';

/**
 * What an upstream said in its error body, beyond the message: clients act on these (a
 * `context_length_exceeded` code makes a framework trim the history), so a caller of the same
 * API gets them back as sent.
 */
export interface UpstreamErrorFields {
  api: Api;
  type?: string;
  code?: string | null;
  param?: string | null;
}

/** A failure Morpheus reports to its clients, in whichever API shape they spoke. */
export class GatewayError extends KgentsError {
  constructor(
    code: ErrorCode,
    message: string,
    /** Seconds to put in Retry-After, when waiting helps. */
    readonly retryAfter?: number,
    /** The upstream status behind it, for retries. */
    readonly upstreamStatus?: number,
    readonly upstreamFields?: UpstreamErrorFields,
  ) {
    super(code, message);
  }

  /**
   * Connect errors and 502/503/429 from the upstream (and Anthropic's 529, overloaded) are worth
   * another try (elsewhere, or later). A 500 is the upstream's own bug, and our own full queue
   * must answer at once.
   */
  get retryable(): boolean {
    if (this.upstreamStatus === undefined) return this.code === 'UPSTREAM_UNAVAILABLE';
    return this.upstreamStatus === 429 || this.upstreamStatus === 502 || this.upstreamStatus === 503 || this.upstreamStatus === 529;
  }
}

/**
 * The message and fields of an upstream's error body, in either API's shape
 * (`{"error":{"message","type","code","param"}}`, `{"type":"error","error":{"type","message"}}`);
 * any other body is its own message.
 */
export function upstreamErrorOf(body: string): { message: string; fields?: UpstreamErrorFields } {
  try {
    const parsed = JSON.parse(body) as { type?: unknown; error?: unknown; message?: unknown };
    const error = parsed.error;
    if (error && typeof error === 'object') {
      const e = error as { message?: unknown; type?: unknown; code?: unknown; param?: unknown };
      const message = typeof e.message === 'string' ? e.message : body;
      const type = typeof e.type === 'string' ? e.type : undefined;
      if (parsed.type === 'error') return { message, fields: { api: 'anthropic', type } };
      return { message, fields: { api: 'openai', type, code: typeof e.code === 'string' || e.code === null ? e.code : undefined, param: typeof e.param === 'string' || e.param === null ? e.param : undefined } };
    }
    if (typeof error === 'string') return { message: error };
    if (typeof parsed.message === 'string') return { message: parsed.message };
  } catch {
    // Not JSON: the text itself.
  }
  return { message: body };
}

/** Maps an upstream HTTP status to our error, keeping its Retry-After and its error body's fields. */
export function fromUpstreamStatus(status: number, detail: string, retryAfter?: number, fields?: UpstreamErrorFields): GatewayError {
  const error = (code: ErrorCode, message: string, wait?: number) => new GatewayError(code, message, wait, status, fields);
  if (status === 429) return error('RATE_LIMITED', `upstream rate limit: ${detail}`, retryAfter ?? 1);
  if (status === 404) return error('NOT_FOUND', `upstream does not know this model: ${detail}`);
  if (status === 400 || status === 422) return error('INVALID_REQUEST', `upstream refused the request: ${detail}`);
  if (status === 413) return error('PAYLOAD_TOO_LARGE', `upstream refused the request as too large: ${detail}`);
  // The credentials are Morpheus's, not the caller's: the upstream's own words are no use to the caller.
  if (status === 401 || status === 403) return new GatewayError('UPSTREAM_UNAVAILABLE', `upstream refused Morpheus's credentials (${status}); check the backend's API key`, undefined, status);
  if (status === 504) return error('UPSTREAM_TIMEOUT', `upstream timed out: ${detail}`);
  if (status === 503 || status === 529) return error('OVERLOADED', `upstream is overloaded (${status}): ${detail}`, retryAfter ?? 1);
  return error('UPSTREAM_UNAVAILABLE', `upstream answered ${status}: ${detail}`);
}
