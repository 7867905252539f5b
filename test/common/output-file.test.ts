import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputFailure, writeFileWhole } from '../../common/output-file.ts';
import { scratchProject } from '../support/tmp.ts';

const errno = (code: string) => Object.assign(new Error(`${code}: raw words, '/x/out.tmp-1-2'`), { code, syscall: 'mkdir', path: '/x/out.tmp-1-2' });

describe('output files', () => {
  it('writes whole, and a failed write leaves nothing behind, with an error naming the option', async () => {
    const dir = scratchProject('output-file');
    await writeFileWhole(join(dir, 'a.yaml'), 'kind: x\n', '--output');
    expect(readFileSync(join(dir, 'a.yaml'), 'utf8')).toBe('kind: x\n');
    mkdirSync(join(dir, 'folder'));
    await expect(writeFileWhole(join(dir, 'folder'), 'x', '--output')).rejects.toMatchObject({ code: 'INVALID_REQUEST', details: { field: '--output' }, message: `${join(dir, 'folder')} is a folder: name a file` });
    await expect(writeFileWhole(join(dir, 'none', 'a.yaml'), 'x', '--output')).rejects.toMatchObject({ code: 'NOT_FOUND', message: `cannot write ${join(dir, 'none', 'a.yaml')}: the folder ${join(dir, 'none')} does not exist` });
    expect(readdirSync(dir).sort()).toEqual(['a.yaml', 'folder']);
  });

  it('names the path the user chose and an exit code by cause; other errors pass through', () => {
    // Root (as CI runs) may write anywhere, so permission errors are made here rather than met.
    expect(outputFailure(errno('EACCES'), '/x/out', 'out')).toMatchObject({ code: 'FORBIDDEN', exitCode: 77, message: 'cannot write /x/out: permission denied', details: { field: 'out' } });
    expect(outputFailure(errno('EROFS'), '/x/out', 'out')).toMatchObject({ code: 'FORBIDDEN' });
    expect(outputFailure(errno('ENOSPC'), '/x/out', 'out')).toMatchObject({ message: 'cannot write /x/out: no space left on the device' });
    const other = errno('EBADF');
    expect(outputFailure(other, '/x/out', 'out')).toBe(other);
  });
});
