import { z } from 'zod';
import { PheromoneType, TOKEN } from '../../common/pheromone.ts';
import { Duration } from './duration.ts';

/**
 * The ReflexSpec: the single source of truth for what a reflex file may say. Types are
 * inferred from these schemas; the README's reference is written from them.
 */

export const ReflexName = z
  .string()
  // A Spin component id that is a DNS label too: words of lower-case letters and digits joined
  // by single dashes, starting with a letter (Spin refuses `1limit` and `a--b`).
  .regex(/^(?=.{1,63}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'a DNS label Spin takes as a component id: lower-case letters and digits in words joined by single "-", starting with a letter, at most 63 characters');

/** Spin route syntax: exact `/a/b`, parameters `/users/:id`, and a trailing wildcard `/api/...`. */
export const Route = z
  .string()
  // Spin reads `*` as itself: `/api/*` would match only the path `/api/*`, which no one means.
  .refine((route) => !route.includes('*'), 'a Spin route matches everything under a prefix with "/...", as in "/api/...", not with "*"')
  .regex(/^\/(([A-Za-z0-9._~!$&'()*+,;=@-]+|:[A-Za-z_][A-Za-z0-9_]*)(\/([A-Za-z0-9._~!$&'()*+,;=@-]+|:[A-Za-z_][A-Za-z0-9_]*))*)?(\/\.\.\.)?$|^\/\.\.\.$/, 'a Spin route: "/exact/path", "/users/:id" or "/prefix/..."');

/** Spin variable names: lower-case snake case. */
export const VariableName = z.string().regex(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, 'a Spin variable name: lower-case letters and digits in words joined by single "_", starting with a letter');

/** An HTTP field name (an RFC 9110 token), lower-cased as HTTP/2 and `wasi:http` carry it. */
export const HeaderName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "an HTTP header name: letters, digits and !#$%&'*+.^_`|~-")
  .transform((s) => s.toLowerCase());

/**
 * A field a reflex may set on its own answer: not one about the connection (RFC 9110 7.6.1) or
 * the framing, which the server sets, and which Spin refuses outright (it dropped every field of
 * an answer that had one).
 */
const CONNECTION_FIELDS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length'];
const ResponseHeaderName = HeaderName.refine((name) => !CONNECTION_FIELDS.includes(name), 'a field the server sets itself (connection, keep-alive, transfer-encoding, upgrade, te, trailer, host, content-length)');

/** An HTTP field value. A line break in one would let a spec write headers of its choosing, and Node refuses it at run time. */
export const HeaderValue = z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'an HTTP header value: printable characters, no line breaks');

/** Where requests go: a Spin variable, so each environment sets its own URL. */
export const Upstream = z
  .object({
    variable: VariableName,
    default: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  })
  .strict();

export const IoPattern = z.enum(['none', 'mesh-only', 'k8s-api']);
export const FailurePolicy = z.enum(['fail-open', 'fail-closed']);

const common = {
  name: ReflexName,
  description: z.string().min(1, 'say what the reflex is for'),
  route: Route.optional(),
  requiresLlm: z.boolean().default(false),
  requiresLibs: z.array(z.string()).default([]),
  /** Checked by the Wasm-compatibility check (not here), so a bad value gets ReflexTooComplexError. */
  ioPattern: z.string().default('none'),
  upstream: Upstream.optional(),
  kv: z.string().regex(/^[a-z0-9_-]+$/, 'a store name such as "default"').default('default'),
  /** What to do when the key-value store is unreachable. Rate limits default to fail-closed, others to fail-open. */
  onStoreFailure: FailurePolicy.optional(),
  limits: z
    .object({
      /** Linear-memory cap in 64 KiB pages; the default depends on the kind (see memoryPagesOf). */
      memoryPages: z.number().int().min(1).max(256).optional(),
      /** Loop iterations one call may run before it is stopped. */
      fuel: z.number().int().min(1000).max(1_000_000_000).default(5_000_000),
    })
    .strict()
    .default({ fuel: 5_000_000 }),
};

// ---------- rate-limit ----------

/** About 73,000 years in µs, well inside the reflex's 64-bit arithmetic. */
const MAX_TRACKED_MICROS = 2 ** 61;

export const RateLimitKey = z.discriminatedUnion('from', [
  z.object({ from: z.literal('header'), name: HeaderName }).strict(),
  z
    .object({
      from: z.literal('client'),
      /** Proxies in front that each append the address they saw to X-Forwarded-For; 0: the peer itself. */
      trustedProxies: z.number().int().min(0).max(10).default(0),
    })
    .strict(),
  z.object({ from: z.literal('path-segment'), index: z.number().int().min(0) }).strict(),
  z.object({ from: z.literal('constant'), value: z.string().min(1) }).strict(),
]);

export const RateLimitSpec = z
  .object({
    ...common,
    kind: z.literal('rate-limit'),
    key: RateLimitKey,
    algorithm: z.enum(['gcra', 'fixed-window']).default('gcra'),
    rate: z.number().int().positive(),
    period: Duration,
    burst: z.number().int().positive().optional(),
    cost: z
      .union([z.literal(1), z.object({ header: HeaderName, max: z.number().int().positive().default(1_000_000) }).strict()])
      .default(1),
    /** Pass allowed requests to this reflex instead of the upstream (a chain on one route). */
    next: ReflexName.optional(),
  })
  .strict()
  // GCRA adds `period / rate` per unit of cost, in µs, up to `burst` (or a cost's max) at once.
  // A period or rate that failed its own check has its own message: this one says nothing then.
  .refine((s) => !Number.isFinite(s.period) || !Number.isFinite(s.rate) || Math.floor((s.period * 1000) / s.rate) * Math.max(s.burst ?? s.rate, s.cost === 1 ? 1 : s.cost.max) <= MAX_TRACKED_MICROS, {
    path: ['burst'],
    message: 'burst (or cost.max) times period / rate must stay under 73,000 years: the limit could not track it',
  });

// ---------- router ----------

const HeaderMatch = z.object({ name: HeaderName, equals: HeaderValue.optional(), present: z.boolean().optional() }).strict();

export const RouterMatch = z
  .object({
    method: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    path: z.union([z.object({ prefix: z.string().startsWith('/') }).strict(), z.object({ glob: z.string().startsWith('/') }).strict(), z.object({ exact: z.string().startsWith('/') }).strict()]).optional(),
    header: HeaderMatch.optional(),
    query: z.object({ name: z.string().min(1), equals: z.string().optional() }).strict().optional(),
    jsonField: z.object({ path: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a dotted field path such as "model" or "metadata.tier"'), equals: z.string() }).strict().optional(),
    // ASCII letters match in either case; others as written (a reflex carries no Unicode case tables).
    keyword: z.string().min(1).transform((s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase())).optional(),
  })
  .strict()
  .refine((m) => Object.keys(m).length > 0, 'a match needs at least one condition');

export const FixedResponse = z
  .object({
    status: z.number().int().min(100).max(599),
    body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    headers: z.record(ResponseHeaderName, HeaderValue).optional(),
  })
  .strict();

export const RouterAction = z.union([
  z.object({ route: z.string().min(1) }).strict(),
  z.object({ respond: FixedResponse }).strict(),
  z.object({ deny: z.object({ status: z.number().int().min(400).max(599).default(403), message: z.string().default('denied') }).strict() }).strict(),
]);

export const RouterSpec = z
  .object({
    ...common,
    kind: z.literal('router'),
    /** Named upstreams that `route` actions refer to. */
    upstreams: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'an upstream name such as "nucleus"'), Upstream).default({}),
    rules: z.array(z.object({ match: RouterMatch, action: RouterAction }).strict()),
    fallback: RouterAction,
    /** While this KV flag is up (a sensor raised it), answer with `respond` instead of routing. */
    whenFlag: z
      .object({
        flag: z.string().regex(TOKEN),
        respond: FixedResponse.default({ status: 503 }),
        retryAfter: z.number().int().positive().default(5),
      })
      .strict()
      .optional(),
  })
  .strict();

// ---------- pheromone-sensor ----------

export const SensorAction = z.union([
  z.object({ raiseFlag: z.string().regex(TOKEN, 'a flag name (letters, digits, ".", "_", "-")') }).strict(),
  z.object({ lowerFlag: z.string().regex(TOKEN, 'a flag name (letters, digits, ".", "_", "-")') }).strict(),
  z
    .object({
      deposit: z
        .object({
          type: PheromoneType,
          target: z.string().regex(TOKEN).optional(),
          intensity: z.number().min(0).max(1),
          halfLife: Duration,
        })
        .strict(),
    })
    .strict(),
  z.object({ webhook: z.object({ upstream: z.string().min(1), path: z.string().startsWith('/').default('/') }).strict() }).strict(),
]);

export const SensorSpec = z
  .object({
    ...common,
    kind: z.literal('pheromone-sensor'),
    every: Duration.refine((ms) => ms >= 100, 'at least 100ms'),
    senses: z
      .object({
        type: PheromoneType,
        target: z.string().regex(TOKEN).optional(),
        aggregate: z.enum(['sum', 'max']).default('sum'),
      })
      .strict(),
    threshold: z
      .object({ rise: z.number().min(0).max(1), fall: z.number().min(0).max(1) })
      .strict()
      .refine((t) => t.fall < t.rise, { message: 'fall must be below rise (hysteresis)', path: ['fall'] }),
    upstreams: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), Upstream).default({}),
    onRise: z.array(SensorAction).default([]),
    onFall: z.array(SensorAction).default([]),
  })
  .strict();

// ---------- health ----------

export const HealthCheck = z.union([
  z.object({ kv: z.literal(true) }).strict(),
  z.object({ upstream: z.string().min(1), path: z.string().startsWith('/').default('/healthz') }).strict(),
]);

export const HealthSpec = z
  .object({
    ...common,
    kind: z.literal('health'),
    upstreams: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), Upstream).default({}),
    checks: z.array(HealthCheck).min(1),
  })
  .strict();

export const ReflexSpec = z.discriminatedUnion('kind', [RateLimitSpec, RouterSpec, SensorSpec, HealthSpec]);

export type ReflexSpecInput = z.input<typeof ReflexSpec>;
export type ReflexSpec = z.output<typeof ReflexSpec>;
export type RateLimitSpec = z.output<typeof RateLimitSpec>;
export type RouterSpec = z.output<typeof RouterSpec>;
export type SensorSpec = z.output<typeof SensorSpec>;
export type HealthSpec = z.output<typeof HealthSpec>;
export type Upstream = z.output<typeof Upstream>;
export type RouterAction = z.output<typeof RouterAction>;
export type RouterMatch = z.output<typeof RouterMatch>;
export type SensorAction = z.output<typeof SensorAction>;
export type FixedResponse = z.output<typeof FixedResponse>;
export const REFLEX_KINDS = ['rate-limit', 'router', 'pheromone-sensor', 'health'] as const;
export type ReflexKind = (typeof REFLEX_KINDS)[number];
