import { describe, expect, it } from 'vitest';
import { EventHub } from '../../nucleus/observe/hub.ts';
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
});
