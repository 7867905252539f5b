import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KgentsError } from './errors.ts';

/**
 * A file-system failure on an output the user named (`-o`), as an error that names the option,
 * the path and why, with its own exit code: a raw `EACCES: permission denied, mkdir
 * '/x/out.tmp-123-456'` names a folder the user never chose, and exits as an internal error.
 * Anything else is handed back as it was.
 */
export function outputFailure(error: unknown, path: string, field: string): unknown {
  const cause = { cause: error };
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new KgentsError('FORBIDDEN', `cannot write ${path}: permission denied`, { field }, cause);
    case 'ENOENT':
      return new KgentsError('NOT_FOUND', `cannot write ${path}: the folder ${dirname(path)} does not exist`, { field }, cause);
    case 'EISDIR':
      return new KgentsError('INVALID_REQUEST', `${path} is a folder: name a file`, { field }, cause);
    case 'ENOTDIR':
      return new KgentsError('INVALID_REQUEST', `cannot write ${path}: part of the path is a file, not a folder`, { field }, cause);
    case 'ENOSPC':
    case 'EDQUOT':
      return new KgentsError('INTERNAL', `cannot write ${path}: no space left on the device`, { field }, cause);
    default:
      return error;
  }
}

/** Writes `text` to `path` whole or not at all: a failed write leaves neither half a file nor a temporary one. */
export async function writeFileWhole(path: string, text: string, field: string): Promise<void> {
  const staging = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(staging, text);
    await rename(staging, path);
  } catch (error) {
    await rm(staging, { force: true });
    throw outputFailure(error, path, field);
  }
}
