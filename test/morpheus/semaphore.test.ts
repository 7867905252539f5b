import { describe, expect, it } from 'vitest';
import { Cancel } from '../../nucleus/morpheus/cancel.ts';
import { Semaphore } from '../../nucleus/morpheus/semaphore.ts';

describe('Semaphore', () => {
  it('queues past its limit, hands a released slot to the next waiter, who then stops listening for a cancel', async () => {
    const semaphore = new Semaphore('test', 1, 4);
    const cancel = new Cancel();
    const release = await semaphore.acquire(cancel);
    const waiting = semaphore.acquire(cancel);
    expect([semaphore.inFlight, semaphore.queued, cancel.listenerCount('abort')]).toEqual([1, 1, 1]);
    release();
    const next = await waiting;
    expect([semaphore.inFlight, semaphore.queued, cancel.listenerCount('abort')]).toEqual([1, 0, 0]);
    next();
    expect(semaphore.inFlight).toBe(0);
  });

  it('a cancelled waiter leaves the queue with the cancel\'s reason; a full queue refuses at once', async () => {
    const semaphore = new Semaphore('test', 1, 1);
    await semaphore.acquire();
    const cancel = new Cancel();
    const waiting = semaphore.acquire(cancel);
    await expect(semaphore.acquire()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    cancel.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(semaphore.queued).toBe(0);
  });
});
