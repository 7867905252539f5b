import { request } from 'node:http';

/** A GET with the request target sent exactly as given: fetch would resolve dot segments first, and refuses targets like `*`. */
export function rawGet(origin: string, target: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: target, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A POST whose body comes chunked (no declared length), `bytes` long, written as fast as the
 * server takes it. Resolves once the exchange is over: with the answer, or with the socket error
 * the client met, even after an answer (a server that answers early and resets the connection).
 */
export function postChunked(origin: string, target: string, bytes: number): Promise<{ status: number; body: string } | { error: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve) => {
    let answer: { status: number; body: string } | null = null;
    let error: string | null = null;
    let finished = false;
    const settle = () => {
      if (error) resolve({ error });
      else if (answer && finished) resolve(answer);
    };
    const req = request({ host: hostname, port, path: target, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        answer = { status: res.statusCode ?? 0, body };
        settle();
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
      settle();
    });
    req.on('finish', () => {
      finished = true;
      settle();
    });
    const chunk = Buffer.alloc(64 * 1024, 97);
    let sent = 0;
    const write = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}
