import { describe, expect, it } from 'vitest';
import { answersPerTurn } from '../../common/answers-per-turn.ts';

/** Resolves after `hops` microtask hops: handlers that finish at different points of one turn. */
async function after(hops: number): Promise<void> {
  for (let i = 0; i < hops; i++) await Promise.resolve();
}

describe('answersPerTurn', () => {
  it('holds an answer ready early in a turn until the turn\'s later answers are ready too', async () => {
    const events: string[] = [];
    const handler = answersPerTurn(async (name: string, hops: number) => {
      await after(hops);
      events.push(`ready ${name}`);
      return name;
    });
    const answers = [handler('quick', 0), handler('slow', 20)].map((p) => p.then((name) => events.push(`released ${name}`)));
    await Promise.all(answers);
    expect(events).toEqual(['ready quick', 'ready slow', 'released quick', 'released slow']);
  });

  it('releases each turn\'s answers in that turn, and passes errors on at once', async () => {
    const handler = answersPerTurn((n: number) => {
      if (n < 0) throw new Error('negative');
      return n * 2;
    });
    expect(await handler(2)).toBe(4);
    expect(await Promise.all([handler(3), handler(4)])).toEqual([6, 8]);
    await expect(handler(-1)).rejects.toThrow('negative');
    // Nothing is left waiting for a release that never comes.
    expect(await handler(5)).toBe(10);
  });
});
