import { describe, expect, it } from 'vitest';
import { firstStop, StopScanner } from '../../nucleus/morpheus/backends/stop-sequences.ts';

describe('stop sequences', () => {
  it('firstStop finds the earliest of several, and ignores empty ones', () => {
    expect(firstStop('one two three', ['three', 'two', ''])).toEqual({ at: 4, sequence: 'two' });
    expect(firstStop('one two', ['four', ''])).toBeNull();
  });

  it('a scanner fed any split of a text puts out what comes before the sequence, and nothing after', () => {
    const text = 'Thought: look it up\nObservation: the answer';
    for (let a = 0; a <= text.length; a += 3) {
      for (let b = a; b <= text.length; b += 5) {
        const scanner = new StopScanner(['\nObservation:', 'never']);
        let out = '';
        let stopped: string | undefined;
        for (const piece of [text.slice(0, a), text.slice(a, b), text.slice(b)]) {
          if (stopped !== undefined) break;
          const step = scanner.push(piece);
          out += step.out;
          stopped = step.stopped;
        }
        expect([out, stopped], `${a}/${b}`).toEqual(['Thought: look it up', '\nObservation:']);
      }
    }
  });

  it('with no sequence in the text, every character comes out once, the held-back end at flush', () => {
    const scanner = new StopScanner(['xyz']);
    const out = ['abcx', 'yab', 'cxy'].map((p) => scanner.push(p).out).join('') + scanner.flush();
    expect(out).toBe('abcxyabcxy');
  });
});
