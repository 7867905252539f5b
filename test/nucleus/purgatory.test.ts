import { describe, expect, it } from 'vitest';
import { Purgatory } from '../../nucleus/conscience/purgatory.ts';
import { EventHub } from '../../nucleus/observe/hub.ts';

describe('purgatory capacity', () => {
  it('makes room by dropping the oldest settled decision, and refuses to hold more once all are waiting', () => {
    const purgatory = new Purgatory(new EventHub(), 60_000, Date.now, 3);
    const [a, b, c] = ['a', 'b', 'c'].map((input) => purgatory.hold('agent', input, 'out', 'needs approval'));
    purgatory.resolve(b.token, 'ok');
    const d = purgatory.hold('agent', 'd', 'out', 'needs approval');
    expect(purgatory.list().map((e) => e.token).sort()).toEqual([a.token, c.token, d.token].sort());
    expect(() => purgatory.hold('agent', 'e', 'out', 'needs approval')).toThrow(expect.objectContaining({ code: 'OVERLOADED', message: expect.stringContaining('resolve or cancel some') }));
    purgatory.cancel(a.token);
    expect(purgatory.hold('agent', 'f', 'out', 'needs approval').status).toBe('pending');
  });
});
