import { KgentsError, type ErrorCode } from '../../common/errors.ts';

/** A failure Morpheus reports to its clients, in whichever API shape they spoke. */
export class GatewayError extends KgentsError {
  constructor(
    code: ErrorCode,
    message: string,
    /** Seconds to put in Retry-After, when waiting helps. */
    readonly retryAfter?: number,
    /** The upstream status behind it, for retries. */
    readonly upstreamStatus?: number,
  ) {
    super(code, message);
  }

  /**
   * Connect errors and 502/503/429 from the upstream are worth another try (elsewhere, or
   * later). A 500 is the upstream's own bug, and our own full queue must answer at once.
   */
  get retryable(): boolean {
    if (this.upstreamStatus === undefined) return this.code === 'UPSTREAM_UNAVAILABLE';
    return this.upstreamStatus === 429 || this.upstreamStatus === 502 || this.upstreamStatus === 503;
  }
}

/** Maps an upstream HTTP status to our error, keeping its Retry-After. */
export function fromUpstreamStatus(status: number, detail: string, retryAfter?: number): GatewayError {
  if (status === 429) return new GatewayError('RATE_LIMITED', `upstream rate limit: ${detail}`, retryAfter ?? 1, status);
  if (status === 404) return new GatewayError('NOT_FOUND', `upstream does not know this model: ${detail}`, undefined, status);
  if (status === 400 || status === 422) return new GatewayError('INVALID_REQUEST', `upstream refused the request: ${detail}`, undefined, status);
  if (status === 401 || status === 403) return new GatewayError('UPSTREAM_UNAVAILABLE', `upstream refused Morpheus's credentials (${status}); check the backend's API key`, undefined, status);
  if (status === 504) return new GatewayError('UPSTREAM_TIMEOUT', `upstream timed out: ${detail}`, undefined, status);
  return new GatewayError('UPSTREAM_UNAVAILABLE', `upstream answered ${status}: ${detail}`, status === 503 ? (retryAfter ?? 1) : undefined, status);
}
