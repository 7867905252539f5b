import type { Notification } from '../compiler/abi.ts';
import { isKgentsError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { LoadedReflex } from './app.ts';
import type { HostMetrics } from './metrics.ts';

const WEBHOOK_TIMEOUT_MS = 5000;

/**
 * POSTs one sensor webhook through the reflex's outbound allowlist. It never throws: a host
 * outside the allowlist counts as an outbound denial, anything else (unreachable, timeout,
 * non-2xx) as a webhook failure, and both are logged.
 */
export async function postWebhook(reflex: LoadedReflex, { url, body }: Notification, metrics: HostMetrics, logger: Logger): Promise<void> {
  const name = reflex.reflex.name;
  try {
    reflex.outbound.check(url);
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
  } catch (error) {
    if (isKgentsError(error) && error.code === 'OUTBOUND_DENIED') metrics.outboundDenied.inc({ reflex: name });
    else metrics.webhookFailures.inc({ reflex: name });
    logger.warn({ reflex: name, url, err: (error as Error).message }, 'sensor webhook failed');
  }
}
