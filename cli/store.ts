import { formatError } from '../common/errors.ts';
import type { KvStore } from '../common/kv/index.ts';
import type { Logger } from '../common/log.ts';

/**
 * The store of a long-running command: Redis when a URL is given, else memory. An unreachable
 * Redis is a warning, not an exit: the server starts, its /readyz answers 503, and the client
 * reconnects by itself. In a cluster, pods start in any order.
 */
export async function openServerStore(redisUrl: string | undefined, log: Logger): Promise<KvStore> {
  const { openKv, RedisKv } = await import('../common/kv/index.ts');
  const kv = openKv(redisUrl);
  if (kv instanceof RedisKv) {
    await kv.ready().catch((error) => log.warn({ err: formatError(error) }, 'Redis is not reachable yet; /readyz answers 503 and stores follow their failure policy until it answers'));
  }
  return kv;
}
