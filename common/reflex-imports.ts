/**
 * Every function a reflex's core module may import, by interface. `kgents build` renames each
 * import of the core module to its two positions in this table (interface "2", function "14"),
 * because the full names (`wasi:http/types@0.2.0` / `[method]outgoing-request.set-path-with-query`)
 * took 2 KB of a 20 KB component. The component's own imports keep their full names, so Spin
 * and jco see no difference; the embedded host, which runs the core module directly, maps the
 * short names back through this table.
 *
 * Append only: a position, once published, names that function for good.
 */
export const REFLEX_IMPORTS: readonly { readonly interface: string; readonly functions: readonly string[] }[] = [
  { interface: 'wasi:keyvalue/store@0.2.0-draft2', functions: ['open', '[method]bucket.get', '[method]bucket.set', '[method]bucket.delete', '[method]bucket.exists', '[resource-drop]bucket'] },
  { interface: 'wasi:keyvalue/atomics@0.2.0-draft2', functions: ['increment', '[static]cas.new', '[method]cas.current', 'swap', '[resource-drop]cas'] },
  { interface: 'wasi:config/store@0.2.0-draft-2024-09-27', functions: ['get', 'get-all'] },
  { interface: 'wasi:clocks/wall-clock@0.2.0', functions: ['now'] },
  { interface: 'wasi:clocks/monotonic-clock@0.2.0', functions: ['now'] },
  {
    interface: 'wasi:http/types@0.2.0',
    functions: [
      '[constructor]outgoing-request', '[constructor]outgoing-response', '[method]fields.entries',
      '[method]future-incoming-response.get', '[method]future-incoming-response.subscribe', '[method]incoming-body.stream',
      '[method]incoming-request.consume', '[method]incoming-request.headers', '[method]incoming-request.method',
      '[method]incoming-request.path-with-query', '[method]incoming-response.consume', '[method]incoming-response.headers',
      '[method]incoming-response.status', '[method]outgoing-body.write', '[method]outgoing-request.body',
      '[method]outgoing-request.set-authority', '[method]outgoing-request.set-method', '[method]outgoing-request.set-path-with-query',
      '[method]outgoing-request.set-scheme', '[method]outgoing-response.body', '[method]outgoing-response.set-status-code',
      '[resource-drop]fields', '[resource-drop]future-incoming-response', '[resource-drop]incoming-body',
      '[resource-drop]incoming-request', '[resource-drop]incoming-response', '[static]fields.from-list',
      '[static]outgoing-body.finish', '[static]response-outparam.set',
    ],
  },
  { interface: 'wasi:http/outgoing-handler@0.2.0', functions: ['handle'] },
  { interface: 'wasi:io/poll@0.2.0', functions: ['[method]pollable.block', '[resource-drop]pollable'] },
  { interface: 'wasi:io/streams@0.2.0', functions: ['[method]input-stream.blocking-read', '[method]output-stream.blocking-write-and-flush', '[resource-drop]input-stream', '[resource-drop]output-stream', '[method]output-stream.blocking-splice'] },
];

export interface ImportName {
  module: string;
  name: string;
}

/** The short name of a full import name, or null when the table lacks it. */
export function shortImportName(full: ImportName): ImportName | null {
  const i = REFLEX_IMPORTS.findIndex((entry) => entry.interface === full.module);
  const j = i < 0 ? -1 : REFLEX_IMPORTS[i].functions.indexOf(full.name);
  return j < 0 ? null : { module: String(i), name: String(j) };
}

/** The full import name behind a short one; any other name is returned as it is. */
export function fullImportName(short: ImportName): ImportName {
  const entry = /^\d+$/.test(short.module) ? REFLEX_IMPORTS[Number(short.module)] : undefined;
  const name = entry && /^\d+$/.test(short.name) ? entry.functions[Number(short.name)] : undefined;
  return entry && name !== undefined ? { module: entry.interface, name } : short;
}
