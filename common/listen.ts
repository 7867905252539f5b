import { serve, type ServerType } from '@hono/node-server';

export interface Listening {
  server: ServerType;
  url: string;
  port: number;
  /** Stops at once: open keep-alive and streaming connections are cut. */
  close(): Promise<void>;
}

type FetchHandler = (request: Request, env: never) => Response | Promise<Response>;

/** Serves a fetch handler on Node (port 0 picks a free one) and resolves once it listens. */
export async function listen(fetch: FetchHandler, opts: { port: number; host: string }): Promise<Listening> {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: fetch as Parameters<typeof serve>[0]['fetch'], port: opts.port, hostname: opts.host }, () => resolve(s));
  });
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    url: `http://${opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
