import { describe, expect, it } from 'vitest';
import { Backlog, EventHub } from '../../nucleus/observe/hub.ts';
import { startNucleus } from '../../nucleus/index.ts';

describe('observe', () => {
  it('replays history over SSE on connect, then streams new events', async () => {
    const n = await startNucleus({ port: 0, agents: [] });
    try {
      await n.field.deposit({ type: 'TEST', source: 'before', intensity: 0.5, halfLife: 1000 });
      const controller = new AbortController();
      const response = await fetch(`${n.url}/v1/observe`, { signal: controller.signal });
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const reader = response.body!.getReader();
      let text = '';
      const readUntil = async (pattern: RegExp) => {
        while (!pattern.test(text)) text += new TextDecoder().decode((await reader.read()).value);
      };
      await readUntil(/"source":"before"/);
      await n.field.deposit({ type: 'TEST', source: 'after', intensity: 0.5, halfLife: 1000 });
      await readUntil(/"source":"after"/);
      expect(text).toContain('event: pheromone.deposited');
      controller.abort();

      // Reconnecting with the last id seen replays only what came after it.
      const firstId = Number(/id: (\d+)/.exec(text)![1]);
      const resumed = new AbortController();
      const again = await fetch(`${n.url}/v1/observe`, { signal: resumed.signal, headers: { 'last-event-id': String(firstId) } });
      const resumedReader = again.body!.getReader();
      let resumedText = '';
      while (!/"source":"after"/.test(resumedText)) resumedText += new TextDecoder().decode((await resumedReader.read()).value);
      expect(resumedText).not.toContain('"source":"before"');
      resumed.abort();
    } finally {
      await n.close();
    }
  });

  it('a slow observer loses its oldest events and never slows the publisher', async () => {
    const hub = new EventHub(100, 10);
    const seen: number[] = [];
    let droppedTotal = 0;
    hub.subscribe({ deliver: (events, dropped) => (seen.push(...events.map((e) => e.seq)), (droppedTotal += dropped)), close: () => {} });
    // A publisher burst completes synchronously, before any delivery.
    for (let i = 0; i < 25; i++) hub.publish('invocation', { i });
    expect(seen).toEqual([]);
    await Promise.resolve();
    expect(seen).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(droppedTotal).toBe(15);
  });

  it('a transport that waits on a client who stopped reading holds at most a queue of events, and counts the rest as dropped', async () => {
    const hub = new EventHub(100, 10);
    const backlog = new Backlog(hub.queueSize);
    hub.subscribe({ deliver: backlog.deliver, close: () => {} });
    // The hub keeps delivering while the transport is stuck on its socket: batch after batch.
    for (let batch = 0; batch < 5; batch++) {
      for (let i = 0; i < 8; i++) hub.publish('invocation', { batch, i });
      await Promise.resolve();
    }
    const { events, dropped } = await backlog.take();
    expect(events.map((e) => e.seq)).toEqual([31, 32, 33, 34, 35, 36, 37, 38, 39, 40]);
    expect(dropped).toBe(30);
    // Once caught up it waits, and wakes for the next event; or gives up after the wait asked for.
    const next = backlog.take();
    hub.publish('invocation', { last: true });
    expect((await next).events.map((e) => e.seq)).toEqual([41]);
    expect(await backlog.take(20)).toEqual({ events: [], dropped: 0 });
  });
});
