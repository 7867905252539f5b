import { Agent, createServer, request } from 'node:http';

/**
 * The floor for any gateway: a bare node:http proxy that pipes each request to the upstream
 * and pipes the answer back, with no parsing at all. Benchmarks use it to tell the cost of an
 * extra network hop from the cost of Morpheus's own work. Prints its URL, runs until killed.
 */
const upstream = new URL(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const server = createServer((req, res) => {
  const out = request({ agent, host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on('error', () => res.writeHead(502).end());
  req.pipe(out);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${(server.address() as { port: number }).port}\n`));
