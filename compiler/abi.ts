/**
 * The byte layouts of `kgents:reflex/decide` (TypeScript side; compiler/assembly/codec.ts and
 * sensor.ts are the AssemblyScript side). Little-endian.
 *
 * request  = str method, str path, str query, str client, u16 n, n x (str name, str value), u32 len, body
 * decision = u8 action, u16 status, str target, u16 n, n x (str name, str value), u32 len, body,
 *            u16 m, m x (str url, u32 len, JSON body)   (webhooks to POST before answering)
 * tick     = i32 level in millionths (-1e6 = store down), u16 n, n x (u8 kind, str a, u32-prefixed b)
 * str = u16 length + UTF-8
 */

/** The core module's export names for the decide interface: the compiler writes them, the host calls them. */
export const CORE_EXPORTS = {
  decide: 'kgents:reflex/decide@0.1.0#decide',
  postDecide: 'cabi_post_kgents:reflex/decide@0.1.0#decide',
  tick: 'kgents:reflex/sense@0.1.0#tick',
  postTick: 'cabi_post_kgents:reflex/sense@0.1.0#tick',
} as const;

/**
 * The component's heap module (compiler/toolchain/heap-module.ts): it owns the reflex module's
 * memory and allocates in it, so it is instantiated first. The reflex module imports the memory
 * as `module`/`memory`. Names are one byte: each is written three times in every component.
 */
export const HEAP_MODULE = { module: '', memory: 'm', realloc: 'r' } as const;

/**
 * The most of a request body a reflex sees (the embedded host passes the first this many bytes,
 * and the generated entry tells the Spin path to read as many; the upstream gets the whole
 * body). Body rules look at the start of a body, and the memory cap of a body-reading reflex is
 * sized from this.
 */
export const REFLEX_BODY_BYTES = 1024 * 1024;

/** What the embedded host answers itself on its port, before any reflex: a route there would never run. */
export const HOST_PATHS = { health: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;

/**
 * Why a path is refused that Spin's routes, a reflex and an upstream could read differently
 * (cytoplasm/request-target.ts on the host; on the Spin path, routers and rate limits).
 */
export const AMBIGUOUS_PATH = 'path has a \\, a . or .. segment, or an escaped letter, digit or -._~';

export const ACTION = { respond: 0, forward: 1, probe: 2 } as const;

/** A health probe's result goes back to the reflex as `kgents-probe-<i>: <status>` (0: unreachable). */
export const PROBE_FIELD = 'kgents-probe-';

/**
 * Under Spin's chaining, where a chained reflex sees 0.0.0.0 as its client, the reflex before it
 * names the client in this field (compiler/assembly/http.ts); no upstream is sent it.
 */
export const CLIENT_FIELD = 'kgents-client';
export const TICK_EVENT = { 1: 'raised', 2: 'lowered', 3: 'webhook', 4: 'store-down' } as const;

export interface ReflexRequest {
  method: string;
  path: string;
  query: string;
  client: string;
  /** Lower-case names. */
  headers: [string, string][];
  body?: Uint8Array;
}

/** A webhook to POST (a JSON body) before answering: a sensor that ticked through its route. */
export interface Notification {
  url: string;
  body: string;
}

/** `notify` is present only when there are webhooks to send. */
export type Decision =
  | { action: 'respond'; status: number; headers: [string, string][]; body: string; notify?: Notification[] }
  | { action: 'forward'; target: string; headers: [string, string][]; notify?: Notification[] }
  | { action: 'probe'; urls: string[] };

export interface TickEvent {
  kind: (typeof TICK_EVENT)[keyof typeof TICK_EVENT];
  a: string;
  b: string;
}

export interface TickReport {
  level: number;
  events: TickEvent[];
}

import { decodeUtf8 } from '../common/utf8.ts';

const encoder = new TextEncoder();

function utf8Length(s: string): number {
  // ASCII fast path: most methods, paths and header values.
  let n = s.length;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return encoder.encode(s).length;
  return n;
}

export function requestSize(req: ReflexRequest): number {
  let size = 2 + utf8Length(req.method) + 2 + utf8Length(req.path) + 2 + utf8Length(req.query) + 2 + utf8Length(req.client) + 2 + 4 + (req.body?.length ?? 0);
  for (const [name, value] of req.headers) size += 4 + utf8Length(name) + utf8Length(value);
  return size;
}

/** Writes a u16 length and the UTF-8 bytes of s at pos; ASCII (nearly every method, path and header) skips the encoder. */
function writeStr(s: string, target: Uint8Array, pos: number): number {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) break;
    target[pos + 2 + i] = c;
  }
  let written = n;
  if (i < n) written = encoder.encodeInto(s, target.subarray(pos + 2)).written;
  target[pos] = written & 0xff;
  target[pos + 1] = written >>> 8;
  return pos + 2 + written;
}

/** Writes the request into `target` at `offset` (guest memory, to skip a copy); returns bytes written. */
export function encodeRequestInto(req: ReflexRequest, target: Uint8Array, offset: number): number {
  let pos = writeStr(req.method, target, offset);
  pos = writeStr(req.path, target, pos);
  pos = writeStr(req.query, target, pos);
  pos = writeStr(req.client, target, pos);
  const headers = req.headers;
  target[pos] = headers.length & 0xff;
  target[pos + 1] = headers.length >>> 8;
  pos += 2;
  for (let i = 0; i < headers.length; i++) {
    pos = writeStr(headers[i][0], target, pos);
    pos = writeStr(headers[i][1], target, pos);
  }
  const length = req.body?.length ?? 0;
  target[pos] = length & 0xff;
  target[pos + 1] = (length >>> 8) & 0xff;
  target[pos + 2] = (length >>> 16) & 0xff;
  target[pos + 3] = length >>> 24;
  pos += 4;
  if (req.body) target.set(req.body, pos);
  return pos + length - offset;
}

export function encodeRequest(req: ReflexRequest): Uint8Array {
  const out = new Uint8Array(requestSize(req));
  encodeRequestInto(req, out, 0);
  return out;
}

/** Reads the little-endian layouts straight off the bytes (a DataView per call cost more than the reads). */
class Cursor {
  constructor(private readonly bytes: Uint8Array, private pos = 0) {}
  u8() {
    return this.bytes[this.pos++];
  }
  u16() {
    const b = this.bytes;
    const v = b[this.pos] | (b[this.pos + 1] << 8);
    this.pos += 2;
    return v;
  }
  u32() {
    const b = this.bytes;
    const v = (b[this.pos] | (b[this.pos + 1] << 8) | (b[this.pos + 2] << 16) | (b[this.pos + 3] << 24)) >>> 0;
    this.pos += 4;
    return v;
  }
  private utf8(n: number) {
    const s = decodeUtf8(this.bytes, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  str() {
    return this.utf8(this.u16());
  }
  text() {
    return this.utf8(this.u32());
  }
}

export function decodeDecision(bytes: Uint8Array): Decision {
  const c = new Cursor(bytes);
  const action = c.u8();
  const status = c.u16();
  const target = c.str();
  const n = c.u16();
  const headers: [string, string][] = [];
  for (let i = 0; i < n; i++) headers.push([c.str(), c.str()]);
  const body = c.text();
  const m = c.u16();
  const notify: Notification[] = [];
  for (let i = 0; i < m; i++) notify.push({ url: c.str(), body: c.text() });
  const extra = m > 0 ? { notify } : {};
  if (action === ACTION.forward) return { action: 'forward', target, headers, ...extra };
  if (action === ACTION.probe) return { action: 'probe', urls: headers.map(([, v]) => v) };
  return { action: 'respond', status, headers, body, ...extra };
}

export function decodeTick(bytes: Uint8Array): TickReport {
  const c = new Cursor(bytes);
  const level = (c.u32() | 0) / 1_000_000;
  const n = c.u16();
  const events: TickEvent[] = [];
  for (let i = 0; i < n; i++) {
    const kind = TICK_EVENT[c.u8() as keyof typeof TICK_EVENT];
    events.push({ kind, a: c.str(), b: c.text() });
  }
  return { level, events };
}
