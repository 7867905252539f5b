/**
 * Every error the product raises on purpose is a KgentsError with a stable `code`.
 * The code alone decides the CLI exit code and the HTTP status (see ERROR_TABLE), so the
 * mapping lives in one place and callers never pick numbers themselves.
 */

export const ERROR_TABLE = {
  // input that the user can fix
  INVALID_SPEC: { exit: 65, http: 400 }, // EX_DATAERR
  SPEC_SYNTAX: { exit: 65, http: 400 },
  SPEC_NO_EXPORT: { exit: 65, http: 400 },
  DUPLICATE_NAME: { exit: 65, http: 400 },
  DUPLICATE_ROUTE: { exit: 65, http: 400 },
  UNKNOWN_REFERENCE: { exit: 65, http: 400 },
  REFLEX_TOO_COMPLEX: { exit: 65, http: 400 },
  INVALID_REQUEST: { exit: 64, http: 400 }, // EX_USAGE
  INVALID_CONFIG: { exit: 78, http: 500 }, // EX_CONFIG
  UNAUTHORIZED: { exit: 77, http: 401 }, // EX_NOPERM
  FORBIDDEN: { exit: 77, http: 403 },
  NOT_FOUND: { exit: 66, http: 404 }, // EX_NOINPUT
  CONFLICT: { exit: 75, http: 409 },
  IDEMPOTENCY_KEY_REUSED: { exit: 65, http: 422 },
  RATE_LIMITED: { exit: 75, http: 429 }, // EX_TEMPFAIL
  PAYLOAD_TOO_LARGE: { exit: 65, http: 413 },
  // toolchain and runtime
  TOOLCHAIN: { exit: 70, http: 500 }, // EX_SOFTWARE
  REFLEX_TRAPPED: { exit: 70, http: 500 },
  OUTBOUND_DENIED: { exit: 77, http: 502 },
  STORE_UNAVAILABLE: { exit: 69, http: 503 }, // EX_UNAVAILABLE
  UPSTREAM_UNAVAILABLE: { exit: 69, http: 502 },
  UPSTREAM_TIMEOUT: { exit: 69, http: 504 },
  OVERLOADED: { exit: 75, http: 503 },
  NOT_CONFIGURED: { exit: 78, http: 503 },
  // cluster and registry
  CLUSTER_UNREACHABLE: { exit: 69, http: 502 },
  CRD_MISSING: { exit: 69, http: 502 },
  REGISTRY: { exit: 69, http: 502 },
  TIMEOUT: { exit: 75, http: 504 },
  INTERNAL: { exit: 70, http: 500 },
} as const satisfies Record<string, { exit: number; http: number }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export interface ErrorDetails {
  /** The file the problem is in, when there is one. */
  file?: string;
  /** Dotted path of the offending field inside that file or body, e.g. `rules.2.match.path`. */
  field?: string;
  /** Anything else a caller may want to show (never secrets). */
  [key: string]: unknown;
}

export class KgentsError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  get exitCode(): number {
    return ERROR_TABLE[this.code].exit;
  }

  get httpStatus(): number {
    return ERROR_TABLE[this.code].http;
  }
}

export class SpecError extends KgentsError {}

/** Raised by the Wasm-compatibility check: the logic belongs in the nucleus, not in a reflex. */
export class ReflexTooComplexError extends KgentsError {
  constructor(message: string, details: ErrorDetails) {
    super('REFLEX_TOO_COMPLEX', message, details);
  }
}

export class ToolchainError extends KgentsError {
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super('TOOLCHAIN', message, details, options);
  }
}

export function isKgentsError(error: unknown): error is KgentsError {
  return error instanceof KgentsError;
}

export function exitCodeOf(error: unknown): number {
  return isKgentsError(error) ? error.exitCode : ERROR_TABLE.INTERNAL.exit;
}

export function httpStatusOf(error: unknown): number {
  return isKgentsError(error) ? error.httpStatus : ERROR_TABLE.INTERNAL.http;
}

/** One line for a terminal: `file: field: message` (the field once, when the message already starts with it). */
export function formatError(error: unknown): string {
  if (!isKgentsError(error)) return error instanceof Error ? error.message : String(error);
  const { file, field } = error.details;
  const where = [file, field && !error.message.startsWith(`${field}: `) ? field : undefined].filter(Boolean).join(': ');
  return where ? `${where}: ${error.message}` : error.message;
}
