import { EventEmitter } from 'node:events';
import { finished } from 'node:stream';
import { HOST_PATHS } from '../compiler/abi.ts';
import type { ServerType } from '@hono/node-server';
import { listen } from '../common/listen.ts';
import { Hono } from 'hono';
import type { KvStore } from '../common/kv/index.ts';
import { MemoryKv } from '../common/kv/memory.ts';
import { RateLimitStateSweeper } from '../common/rate-limit-state.ts';
import { createLogger, type Logger } from '../common/log.ts';
import { loadApp, type LoadedApp } from './app.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dispatch, incomingFromRequest, type DispatchContext, type IncomingCall } from './dispatch.ts';
import { createHostMetrics, type HostMetrics } from './metrics.ts';
import { SensorScheduler, type SensorEvent } from './sensors.ts';
import { relayedResponse, sendRelayed, type Relayed } from './relay.ts';
import { postWebhook } from './webhook.ts';

export interface HostOptions {
  distDir: string;
  port?: number;
  host?: string;
  kv?: KvStore;
  logger?: Logger;
  /** Wall clock the reflexes see (tests inject one). */
  nowMs?: () => number;
  env?: Record<string, string | undefined>;
  /** Run sensors on their schedule (default true). */
  sensors?: boolean;
  /** How long a forwarded request may wait for the upstream's headers (default 120 s, as Morpheus waits for an LLM's answer). */
  upstreamTimeoutMs?: number;
  /** How long shutdown waits for in-flight requests. */
  drainTimeoutMs?: number;
}

/** A non-streaming completion answers only once the LLM is done: Morpheus's response timeout. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 120_000;

/**
 * A request field's value as a reflex reads it: every copy, joined with ", ", as Spin hands them
 * and the Spin path reads them. Read off the raw list: Node's `headers` object keeps only the
 * first copy of some fields (Host, Authorization...), and building it costs more than this scan.
 */
function fieldValue(incoming: IncomingMessage, name: string): string | null {
  const raw = incoming.rawHeaders;
  let value: string | null = null;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name) value = value === null ? raw[i + 1] : `${value}, ${raw[i + 1]}`;
  return value;
}

/** The embedded reflex host: serves a built app's routes through its components. */
export class ReflexHost extends EventEmitter {
  readonly metrics: HostMetrics;
  readonly kv: KvStore;
  readonly logger: Logger;
  private app!: LoadedApp;
  private server: ServerType | null = null;
  private sensors: SensorScheduler;
  private readonly sweeper: RateLimitStateSweeper;
  private inFlight = 0;
  private draining = false;
  url = '';
  port = 0;

  constructor(private readonly options: HostOptions) {
    super();
    this.kv = options.kv ?? new MemoryKv();
    this.logger = options.logger ?? createLogger('reflex-host');
    this.metrics = createHostMetrics(() => Object.fromEntries([...(this.app?.reflexes ?? new Map())].map(([n, r]) => [n, r.runtime.instances])));
    this.context = { app: () => this.app, metrics: this.metrics, logger: this.logger, upstreamTimeoutMs: options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS };
    this.sensors = new SensorScheduler(this.metrics, this.logger, (event) => this.onSensor(event));
    this.sweeper = new RateLimitStateSweeper(this.kv, options.nowMs ?? Date.now, this.logger, (swept) => this.metrics.stateSwept.inc(swept));
  }

  get loaded(): LoadedApp {
    return this.app;
  }

  private runtimeEnv() {
    return {
      kv: this.kv,
      nowMs: this.options.nowMs ?? Date.now,
      onTrap: (reflex: string, error: Error) => {
        this.metrics.traps.inc({ reflex });
        this.logger.error({ reflex, err: error.message }, 'reflex trapped; instance discarded');
      },
    };
  }

  async load(): Promise<void> {
    await this.reload();
    if (this.options.sensors !== false) this.sensors.start();
    this.sweeper.start();
  }

  /**
   * Swaps in a rebuilt app. Only reflexes whose component changed get new runtimes; requests
   * already running keep the runtime they started with, so nothing in flight is dropped.
   */
  async reload(): Promise<{ changed: string[]; removed: string[] }> {
    const { app, changed } = await loadApp(this.options.distDir, this.runtimeEnv(), this.options.env ?? process.env, this.app);
    const removed = this.app ? [...this.app.reflexes.keys()].filter((name) => !app.reflexes.has(name)) : [];
    this.app = app;
    this.sensors.set(app.reflexes.values());
    return { changed, removed };
  }

  private readonly context: DispatchContext;

  /** Serves one request (web-standard in and out), as the HTTP server does. */
  fetch = async (request: Request, client = ''): Promise<Response> => {
    const answer = await this.serve(incomingFromRequest(request, client));
    return answer instanceof Response ? answer : relayedResponse(answer);
  };

  /** A request is in flight until its answer is out: a relayed body (an LLM's stream) included, so shutdown drains it. */
  private async serve(call: IncomingCall): Promise<Response | Relayed> {
    this.inFlight++;
    let answer: Response | Relayed;
    try {
      answer = await dispatch(this.context, call);
    } catch (error) {
      this.inFlight--;
      throw error;
    }
    if (answer instanceof Response || !answer.body) this.inFlight--;
    else finished(answer.body, () => this.inFlight--);
    return answer;
  }

  private honoApp(): Hono<{ Bindings: { incoming: IncomingMessage; outgoing: ServerResponse } }> {
    const app = new Hono<{ Bindings: { incoming: IncomingMessage; outgoing: ServerResponse } }>();
    app.get(HOST_PATHS.health, (c) => c.json({ status: 'ok' }));
    app.get(HOST_PATHS.ready, async (c) => {
      const kvOk = await this.kv.ping();
      const ready = !this.draining && kvOk && this.app.reflexes.size > 0;
      return c.json({ ready, store: { kind: this.kv.kind, ok: kvOk }, reflexes: this.app.reflexes.size }, ready ? 200 : 503);
    });
    app.get(HOST_PATHS.metrics, async (c) => c.text(await this.metrics.registry.metrics(), 200, { 'content-type': this.metrics.registry.contentType }));
    app.all('*', async (c) => {
      const incoming = c.env.incoming;
      const answer = await this.serve({
        method: c.req.method,
        target: incoming.url ?? '/',
        client: incoming.socket?.remoteAddress ?? '',
        header: (name) => fieldValue(incoming, name),
        request: () => c.req.raw,
      });
      return answer instanceof Response ? answer : sendRelayed(c.env.outgoing, answer);
    });
    return app;
  }

  async listen(): Promise<void> {
    const listening = await listen(this.honoApp().fetch, { port: this.options.port ?? 3000, host: this.options.host ?? '127.0.0.1' });
    this.server = listening.server;
    this.port = listening.port;
    this.url = listening.url;
  }

  private onSensor(event: SensorEvent): void {
    this.emit('sensor', event);
    const reflex = this.app.reflexes.get(event.reflex);
    for (const e of event.report.events) {
      if (e.kind === 'raised' || e.kind === 'lowered') this.logger.info({ reflex: event.reflex, flag: e.a, level: event.report.level }, `flag ${e.a} ${e.kind}`);
      if (e.kind === 'webhook' && reflex) void postWebhook(reflex, { url: e.a, body: e.b }, this.metrics, this.logger);
    }
  }

  /** Runs one tick of every sensor now. */
  tickSensors(): Promise<void> {
    return this.sensors.tickAll();
  }

  /** Deletes the rate-limit state that has run out now, as the host does every minute. */
  sweepState(): Promise<number> {
    return this.sweeper.sweep();
  }

  /** Stops accepting, waits for in-flight requests (bounded), then closes. */
  async close(): Promise<void> {
    this.draining = true;
    this.sensors.stop();
    this.sweeper.stop();
    const server = this.server;
    this.server = null;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + (this.options.drainTimeoutMs ?? 10_000);
      while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
    }
  }
}

export async function startHost(options: HostOptions): Promise<ReflexHost> {
  const host = new ReflexHost(options);
  await host.load();
  await host.listen();
  return host;
}
