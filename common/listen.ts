import { createServer } from 'node:http';
import { getRequestListener, type ServerType } from '@hono/node-server';
import { answersPerTurn } from './answers-per-turn.ts';
import { KgentsError } from './errors.ts';

export interface Listening {
  server: ServerType;
  url: string;
  port: number;
  /** Stops at once: open keep-alive and streaming connections are cut. */
  close(): Promise<void>;
}

type FetchHandler = (request: Request, env: never) => Response | Promise<Response>;

export interface ListenOptions {
  port: number;
  host: string;
  /**
   * The answer, in the server's own error shape, when the adapter fails before the app can:
   * 400 for a request no `Request` can be made of (a target like `*` or `ftp://x`), 500 for a
   * handler that throws. The adapter's own answers have no body.
   */
  errorBody?: (status: 400 | 500, message: string) => unknown;
}

const plainErrorBody = (status: 400 | 500, message: string) => ({ error: { code: status === 400 ? 'bad_request' : 'internal', message } });

/**
 * Serves a fetch handler on Node (port 0 picks a free one), a turn's answers written together
 * (answers-per-turn.ts), and resolves once it listens. A port it cannot take rejects with a
 * KgentsError saying which and why (it used to crash the process with an unhandled 'error' event).
 */
export async function listen(fetch: FetchHandler, opts: ListenOptions): Promise<Listening> {
  const errorBody = opts.errorBody ?? plainErrorBody;
  const listener = getRequestListener(answersPerTurn(fetch) as Parameters<typeof getRequestListener>[0], {
    hostname: opts.host,
    errorHandler: (error) =>
      (error as Error).name === 'RequestError'
        ? Response.json(errorBody(400, `bad request: ${(error as Error).message}`), { status: 400 })
        : Response.json(errorBody(500, 'internal error'), { status: 500 }),
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = createServer(listener);
    const refuse = (error: NodeJS.ErrnoException) => reject(listenError(error, opts));
    s.once('error', refuse);
    s.listen(opts.port, opts.host, () => {
      s.off('error', refuse);
      resolve(s);
    });
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

function listenError(error: NodeJS.ErrnoException, { port, host }: { port: number; host: string }): Error {
  const where = `${host}:${port}`;
  if (error.code === 'EADDRINUSE') return new KgentsError('CONFLICT', `${where} is already in use: stop what holds it, or choose another port`, {}, { cause: error });
  if (error.code === 'EACCES') return new KgentsError('FORBIDDEN', `not allowed to listen on ${where} (ports below 1024 need privileges)`, {}, { cause: error });
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') return new KgentsError('INVALID_REQUEST', `${host} is not an address of this machine`, {}, { cause: error });
  return error;
}
