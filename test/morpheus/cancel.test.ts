import { describe, expect, it } from 'vitest';
import { Cancel } from '../../nucleus/morpheus/cancel.ts';

describe('Cancel', () => {
  it('tells each listener once, with the reason, and ignores a second abort', () => {
    const cancel = new Cancel();
    const heard: unknown[] = [];
    cancel.onAbort(() => heard.push(cancel.reason));
    cancel.abort('gone');
    cancel.abort('again');
    expect(heard).toEqual(['gone']);
    expect(cancel.aborted).toBe(true);
  });

  it('runs a listener added after the abort at once, and a removed one never', () => {
    const cancel = new Cancel();
    let removed = 0;
    const stop = cancel.onAbort(() => removed++);
    stop();
    cancel.abort('gone');
    let late = 0;
    cancel.onAbort(() => late++);
    expect([removed, late]).toEqual([0, 1]);
    expect(cancel.listenerCount('abort')).toBe(0);
  });

  it('follows a web AbortSignal, aborted before or after', () => {
    const before = new AbortController();
    before.abort('early');
    expect(Cancel.following(before.signal)).toMatchObject({ aborted: true, reason: 'early' });
    const after = new AbortController();
    const cancel = Cancel.following(after.signal);
    expect(cancel.aborted).toBe(false);
    after.abort('late');
    expect(cancel).toMatchObject({ aborted: true, reason: 'late' });
  });
});
