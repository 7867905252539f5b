import { spawn, type ChildProcess } from 'node:child_process';

/**
 * An echo upstream in a child process. Components driven through preview2-shim make
 * synchronous outgoing requests that block the test's thread, so their upstream must not
 * live on that thread. `GET /_seen` lists the requests it has received. Each answer echoes the
 * request, with the fields that describe its hop apart (`hop`).
 */
const SCRIPT = `
const http = require('node:http');
const seen = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/_seen') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen));
    seen.push({ method: req.method, url: req.url, contentType: req.headers['content-type'] || null, body: Buffer.concat(chunks).toString() });
    if (req.url === '/healthz') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'echo' });
    // The fields that describe a hop (Via, X-Forwarded-*, Spin's spin-*, the client's name in a chain), apart.
    const hop = Object.fromEntries(Object.entries(req.headers).filter(([n]) => n === 'via' || n.startsWith('x-forwarded-') || n === 'kgents-client' || n.startsWith('spin-')));
    res.end(JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString(), trace: req.headers['x-trace'] || null, hop }));
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

export async function startUpstreamProcess(): Promise<{ url: string; close(): void }> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim()));
    child.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, close: () => child.kill() };
}
