import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../common/net.ts';

/** A real Debian `docker-registry` (distribution 2.8) on a free loopback port, plain HTTP, owned by one test file. */
export class RegistryServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RegistryServer> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'kgents-registry-'));
    const config = join(dir, 'config.yml');
    writeFileSync(config, ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, '  delete:', '    enabled: true', 'http:', `  addr: 127.0.0.1:${port}`, ''].join('\n'));
    const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    const server = new RegistryServer(child, dir, port);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
      if (await fetch(`http://${server.host}/v2/`).then((r) => r.ok, () => false)) return server;
      await new Promise((r) => setTimeout(r, 50));
    }
    await server.stop();
    throw new Error(`docker-registry did not start on port ${port}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      await new Promise<void>((resolve) => {
        this.child.once('exit', () => resolve());
        this.child.kill('SIGKILL');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
