// The Spin path: `wasi:http/incoming-handler@0.2.0#handle`, hand-lowered against the canonical
// ABI. It turns the incoming request into the same Request the decide export gets, asks the
// reflex, and carries the Decision out through wasi:http: a fixed response, a forward through
// `wasi:http/outgoing-handler` (streamed back), or health probes followed by a second decision.
import { RET, Writer, decimal, lowerAscii, strFrom, utf8 } from './abi';
import { Decision, Request, ACTION_FORWARD, ACTION_PROBE, jsonError } from './codec';

// ---- wasi:http/types@0.2.0 ----
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]incoming-request.method')
declare function request_method(req: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]incoming-request.path-with-query')
declare function request_path(req: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]incoming-request.headers')
declare function request_headers(req: i32): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]incoming-request.consume')
declare function request_consume(req: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[resource-drop]incoming-request')
declare function drop_incoming_request(req: i32): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]fields.entries')
declare function fields_entries(fields: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[static]fields.from-list')
declare function fields_from_list(ptr: usize, len: usize, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[resource-drop]fields')
declare function drop_fields(fields: i32): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]incoming-body.stream')
declare function incoming_body_stream(body: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[resource-drop]incoming-body')
declare function drop_incoming_body(body: i32): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[constructor]outgoing-response')
declare function new_outgoing_response(headers: i32): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]outgoing-response.set-status-code')
declare function response_set_status(resp: i32, status: i32): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]outgoing-response.body')
declare function response_body(resp: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]outgoing-body.write')
declare function outgoing_body_write(body: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[static]outgoing-body.finish')
declare function outgoing_body_finish(body: i32, hasTrailers: i32, trailers: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[static]response-outparam.set')
declare function outparam_set(outparam: i32, tag: i32, a: i32, b: i32, c: i64, d: i32, e: i32, f: i32, g: i32): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[constructor]outgoing-request')
declare function new_outgoing_request(headers: i32): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]outgoing-request.set-method')
declare function outgoing_set_method(req: i32, tag: i32, ptr: usize, len: usize): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]outgoing-request.set-path-with-query')
declare function outgoing_set_path(req: i32, some: i32, ptr: usize, len: usize): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]outgoing-request.set-scheme')
declare function outgoing_set_scheme(req: i32, some: i32, tag: i32, ptr: usize, len: usize): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]outgoing-request.set-authority')
declare function outgoing_set_authority(req: i32, some: i32, ptr: usize, len: usize): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]outgoing-request.body')
declare function outgoing_request_body(req: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]future-incoming-response.subscribe')
declare function future_subscribe(future: i32): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]future-incoming-response.get')
declare function future_get(future: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[resource-drop]future-incoming-response')
declare function drop_future(future: i32): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]incoming-response.status')
declare function incoming_response_status(resp: i32): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]incoming-response.headers')
declare function incoming_response_headers(resp: i32): i32;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[method]incoming-response.consume')
declare function incoming_response_consume(resp: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:http/types@0.2.0', '[resource-drop]incoming-response')
declare function drop_incoming_response(resp: i32): void;
// ---- wasi:http/outgoing-handler, wasi:io ----
// @ts-ignore: decorator
@external('wasi:http/outgoing-handler@0.2.0', 'handle')
declare function outgoing_handle(req: i32, hasOptions: i32, options: i32, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:io/poll@0.2.0', '[method]pollable.block')
declare function pollable_block(p: i32): void;
// @ts-ignore: decorator
@external('wasi:io/poll@0.2.0', '[resource-drop]pollable')
declare function drop_pollable(p: i32): void;
// @ts-ignore: decorator
@external('wasi:io/streams@0.2.0', '[method]input-stream.blocking-read')
declare function stream_read(stream: i32, len: i64, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:io/streams@0.2.0', '[resource-drop]input-stream')
declare function drop_input_stream(stream: i32): void;
// @ts-ignore: decorator
@external('wasi:io/streams@0.2.0', '[method]output-stream.blocking-write-and-flush')
declare function stream_write(stream: i32, ptr: usize, len: usize, ret: usize): void;
// @ts-ignore: decorator
@external('wasi:io/streams@0.2.0', '[resource-drop]output-stream')
declare function drop_output_stream(stream: i32): void;
// @ts-ignore: decorator
@external('wasi:io/streams@0.2.0', '[method]output-stream.blocking-splice')
declare function stream_splice(output: i32, input: i32, len: i64, ret: usize): void;

const METHODS: string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const READ_CHUNK: i32 = 65536;
const WRITE_CHUNK: i32 = 4096;
const SPLICE_CHUNK: i64 = 1 << 20;

/** The incoming request's body and its stream, open until the request is done; -1 when none. */
let requestBody: i32 = -1;
let requestStream: i32 = -1;

/**
 * Fields a message does not pass on: hop-by-hop ones (RFC 9110 7.6.1), host and length, and
 * those that describe its own hop: Spin's `spin-*`, the client's name, and X-Forwarded-For,
 * which a forward sets anew. One search of a list is a third of the code of a comparison each.
 */
const NOT_PASSED_ON = ',host,connection,keep-alive,transfer-encoding,upgrade,te,trailer,proxy-connection,content-length,kgents-client,x-forwarded-for,';

function passedOn(name: string): bool {
  return name.indexOf('spin-') != 0 && NOT_PASSED_ON.indexOf(',' + name + ',') < 0;
}

function readMethod(req: i32): string {
  request_method(req, RET);
  const tag = <i32>load<u8>(RET);
  if (tag < METHODS.length) return METHODS[tag];
  return strFrom(<usize>load<u32>(RET, 4), <i32>load<u32>(RET, 8));
}

/** Reads `fields.entries` into names (lower case) and values. */
function readFields(fields: i32, names: string[], values: string[]): void {
  fields_entries(fields, RET);
  const base = <usize>load<u32>(RET);
  const count = <i32>load<u32>(RET, 4);
  for (let i = 0; i < count; i++) {
    const e = base + <usize>(i * 16);
    names.push(lowerAscii(strFrom(<usize>load<u32>(e), <i32>load<u32>(e, 4))));
    values.push(strFrom(<usize>load<u32>(e, 8), <i32>load<u32>(e, 12)));
  }
}

/**
 * Opens the request body. A reflex that reads it gets its first `seen` bytes, read into one
 * buffer of that size (each chunk is the arena's newest allocation, so freeing it after the copy
 * takes it back). The rest stays in the stream: a forward passes it on with `pipe`, and no byte
 * of it enters this module's memory, whatever the body's size.
 */
function openBody(request: i32, seen: i32, req: Request): void {
  request_consume(request, RET);
  if (load<u8>(RET) != 0) return;
  requestBody = load<i32>(RET, 4);
  incoming_body_stream(requestBody, RET);
  if (load<u8>(RET) != 0) return;
  requestStream = load<i32>(RET, 4);
  if (seen == 0) return;
  const head = new Writer(seen);
  while (head.len < seen) {
    const room = seen - head.len;
    stream_read(requestStream, <i64>(room < READ_CHUNK ? room : READ_CHUNK), RET);
    if (load<u8>(RET) != 0) {
      // Closed (or failed): the whole body is in hand, nothing is left to pass on.
      drop_input_stream(requestStream);
      requestStream = -1;
      break;
    }
    const chunk = <usize>load<u32>(RET, 4);
    const length = <i32>load<u32>(RET, 8);
    if (length == 0) continue;
    head.raw(chunk, length);
    heap.free(chunk);
  }
  req.body.ptr = head.ptr;
  req.body.len = head.len;
}

function closeBody(): void {
  if (requestStream >= 0) drop_input_stream(requestStream);
  if (requestBody >= 0) drop_incoming_body(requestBody);
  requestStream = -1;
  requestBody = -1;
}

/** Moves the rest of `input` into `output` inside the host, until `input` ends. */
function pipe(input: i32, output: i32): void {
  do stream_splice(output, input, SPLICE_CHUNK, RET);
  while (load<u8>(RET) == 0);
}

/**
 * The peer's address without its port (Spin's `spin-client-addr` is `10.0.0.7:51234` or
 * `[::1]:51234`), as the embedded host gives it: a client's new connection is the same client.
 */
function withoutPort(address: string): string {
  if (address.charCodeAt(0) == 91) { // '['
    const end = address.indexOf(']');
    return end < 0 ? address : address.substring(1, end);
  }
  const colon = address.indexOf(':');
  return colon < 0 || address.indexOf(':', colon + 1) >= 0 ? address : address.substring(0, colon);
}

export function readRequest(handle: i32, bodyBytes: i32): Request {
  const req = new Request();
  req.method = readMethod(handle);
  request_path(handle, RET);
  let target = '/';
  if (load<u8>(RET) != 0) target = strFrom(<usize>load<u32>(RET, 4), <i32>load<u32>(RET, 8));
  const q = target.indexOf('?');
  req.path = q < 0 ? target : target.substring(0, q);
  req.query = q < 0 ? '' : target.substring(q + 1);
  const headers = request_headers(handle);
  readFields(headers, req.names, req.values);
  drop_fields(headers);
  const peer = req.header('spin-client-addr');
  req.client = peer !== null ? withoutPort(peer) : '';
  // Spin's chaining hands a chained component 0.0.0.0; the reflex before it named the client.
  if (req.client == CHAINED_PEER) {
    const named = req.header(CLIENT_FIELD);
    if (named !== null) req.client = named;
  }
  openBody(handle, bodyBytes, req);
  return req;
}

/**
 * fields.from-list over (name, value) pairs; each list entry is 16 bytes: name ptr/len, value
 * ptr/len. The pairs before `ownFrom` come from another message: only those it passes on
 * (passedOn) are kept.
 */
function makeFields(names: string[], values: string[], ownFrom: i32): i32 {
  const entries = heap.alloc(<usize>(names.length * 16));
  let n = 0;
  for (let i = 0; i < names.length; i++) {
    if (i < ownFrom && !passedOn(names[i])) continue;
    const name = utf8(names[i]);
    const value = utf8(values[i]);
    const e = entries + <usize>(n * 16);
    store<u32>(e, <u32>changetype<usize>(name));
    store<u32>(e, <u32>name.byteLength, 4);
    store<u32>(e, <u32>changetype<usize>(value), 8);
    store<u32>(e, <u32>value.byteLength, 12);
    n++;
  }
  fields_from_list(entries, <usize>n, RET);
  if (load<u8>(RET) != 0) {
    fields_from_list(0, 0, RET); // a header was refused (forbidden or malformed): send none rather than fail
  }
  return load<i32>(RET, 4);
}

/** Writes bytes to an output stream in the chunks blocking-write-and-flush accepts. */
function writeAll(stream: i32, ptr: usize, len: i32): bool {
  for (let off = 0; off < len; off += WRITE_CHUNK) {
    const n = len - off < WRITE_CHUNK ? len - off : WRITE_CHUNK;
    stream_write(stream, ptr + <usize>off, <usize>n, RET);
    if (load<u8>(RET) != 0) return false;
  }
  return true;
}

/** Sends status + headers through the outparam, then returns the body handle to write to. */
function startResponse(outparam: i32, status: u32, headers: i32): i32 {
  const response = new_outgoing_response(headers);
  response_set_status(response, <i32>status);
  response_body(response, RET);
  const body = load<i32>(RET, 4);
  outparam_set(outparam, 0, response, 0, 0, 0, 0, 0, 0);
  return body;
}

function finishBody(body: i32): void {
  outgoing_body_finish(body, 0, 0, RET);
}

function sendDecision(outparam: i32, d: Decision): void {
  const body = startResponse(outparam, d.status, makeFields(d.names, d.values, d.names.length));
  outgoing_body_write(body, RET);
  if (load<u8>(RET) == 0) {
    const stream = load<i32>(RET, 4);
    const bytes = utf8(d.body);
    writeAll(stream, changetype<usize>(bytes), bytes.byteLength);
    drop_output_stream(stream);
  }
  finishBody(body);
}

function badGateway(message: string): Decision {
  return jsonError(502, 'upstream_unavailable', message);
}

/** Splits `scheme://authority/base` into its parts. */
class Target {
  https: bool = false;
  authority: string = '';
  base: string = '';
  constructor(url: string) {
    let rest = url;
    const sep = url.indexOf('://');
    if (sep >= 0) {
      this.https = lowerAscii(url.substring(0, sep)) == 'https';
      rest = url.substring(sep + 3);
    }
    const slash = rest.indexOf('/');
    this.authority = slash < 0 ? rest : rest.substring(0, slash);
    this.base = slash < 0 ? '' : rest.substring(slash);
    if (this.base.endsWith('/')) this.base = this.base.substring(0, this.base.length - 1);
  }
}

/**
 * Sends one outgoing request and waits for its response head. Returns the incoming-response
 * handle, or -1 when the upstream could not be reached.
 */
function send(method: string, url: string, pathWithQuery: string, headers: i32, bodyPtr: usize, bodyLen: i32, rest: i32): i32 {
  const target = new Target(url);
  const request = new_outgoing_request(headers);
  let tag = METHODS.indexOf(method);
  const m = utf8(method);
  outgoing_set_method(request, tag < 0 ? 9 : tag, changetype<usize>(m), <usize>m.byteLength);
  const path = utf8(target.base + pathWithQuery);
  outgoing_set_path(request, 1, changetype<usize>(path), <usize>path.byteLength);
  outgoing_set_scheme(request, 1, target.https ? 1 : 0, 0, 0);
  const authority = utf8(target.authority);
  outgoing_set_authority(request, 1, changetype<usize>(authority), <usize>authority.byteLength);
  outgoing_request_body(request, RET);
  const outBody = load<i32>(RET, 4);
  // Hand the request over first, then write its body: a body streamed in before the request
  // is sent would have to fit the host's buffer.
  outgoing_handle(request, 0, 0, RET);
  const failed = load<u8>(RET) != 0;
  const future = load<i32>(RET, 8);
  if (!failed && (bodyLen > 0 || rest >= 0)) {
    outgoing_body_write(outBody, RET);
    if (load<u8>(RET) == 0) {
      const stream = load<i32>(RET, 4);
      if (bodyLen > 0) writeAll(stream, bodyPtr, bodyLen);
      if (rest >= 0) pipe(rest, stream);
      drop_output_stream(stream);
    }
  }
  finishBody(outBody);
  if (failed) return -1;
  const pollable = future_subscribe(future);
  pollable_block(pollable);
  drop_pollable(pollable);
  future_get(future, RET);
  // option<result<result<incoming-response, error-code>, ()>>: each level's payload is 8-aligned.
  const ok = load<u8>(RET) == 1 && load<u8>(RET, 8) == 0 && load<u8>(RET, 16) == 0;
  const response = ok ? load<i32>(RET, 24) : -1;
  drop_future(future);
  return response;
}

/**
 * The client's fields, passed on; then, to the next reflex, the client's name (Spin's chaining
 * hides it), or, to an upstream, X-Forwarded-For with the client appended, as the embedded host
 * sends it.
 */
function forwardedFields(req: Request, chained: bool): i32 {
  const fromClient = req.names.length;
  let forwardedFor = req.header(FORWARDED_FOR);
  if (chained) {
    req.add(CLIENT_FIELD, req.client);
  } else {
    req.add(VIA, OWN_VIA);
    if (req.client.length > 0) forwardedFor = forwardedFor === null ? req.client : forwardedFor + ', ' + req.client;
  }
  if (forwardedFor !== null) {
    req.add(FORWARDED_FOR, forwardedFor);
  }
  // The host the client asked for, as the embedded host sends it, kept from the first hop that saw
  // it (a chained reflex is asked at <name>.spin.internal). Host is among wasmtime's forbidden
  // fields, so it is read off the full URL Spin hands components, which carries it. X-Forwarded-Proto
  // only passes on: Spin under SpinKube serves plain HTTP, and an ingress that ends TLS sets it.
  const full = req.header('spin-full-url');
  if (full !== null && req.header(FORWARDED_HOST) === null) {
    const start = full.indexOf('/') + 2;
    const end = full.indexOf('/', start);
    req.add(FORWARDED_HOST, full.substring(start, end < 0 ? full.length : end));
  }
  return makeFields(req.names, req.values, fromClient);
}

function forward(req: Request, d: Decision, outparam: i32): void {
  const pathWithQuery = req.query.length > 0 ? req.path + '?' + req.query : req.path;
  const chained = d.target.indexOf(CHAIN_HOST) > 0;
  const upstream = send(req.method, d.target, pathWithQuery, forwardedFields(req, chained), req.body.ptr, req.body.len, requestStream);
  if (upstream < 0) {
    sendDecision(outparam, badGateway('upstream ' + d.target + ' is unreachable'));
    return;
  }
  const status = incoming_response_status(upstream);
  const names: string[] = [];
  const values: string[] = [];
  const upstreamHeaders = incoming_response_headers(upstream);
  readFields(upstreamHeaders, names, values);
  drop_fields(upstreamHeaders);
  if (!chained) {
    names.push(VIA);
    values.push(OWN_VIA);
  }
  for (let i = 0; i < d.names.length; i++) {
    names.push(d.names[i]);
    values.push(d.values[i]);
  }
  const outBody = startResponse(outparam, <u32>status, makeFields(names, values, names.length));
  incoming_response_consume(upstream, RET);
  if (load<u8>(RET) == 0) {
    const incomingBody = load<i32>(RET, 4);
    incoming_body_stream(incomingBody, RET);
    outgoing_body_write(outBody, RET + 32);
    if (load<u8>(RET) == 0 && load<u8>(RET, 32) == 0) {
      const input = load<i32>(RET, 4);
      const output = load<i32>(RET, 36);
      // Streamed through inside the host: an answer of any length, event streams included,
      // never passes through this module's memory.
      pipe(input, output);
      drop_input_stream(input);
      drop_output_stream(output);
    }
    drop_incoming_body(incomingBody);
  }
  drop_incoming_response(upstream);
  finishBody(outBody);
}

/** `send` to a full URL: the part after the authority is the path (`/` when there is none). */
function sendTo(method: string, url: string, headers: i32, body: ArrayBuffer | null): i32 {
  const target = new Target(url);
  const pathStart = url.indexOf(target.authority) + target.authority.length;
  const path = url.substring(pathStart);
  return send(method, url.substring(0, pathStart), path.length > 0 ? path : '/', headers, body === null ? 0 : changetype<usize>(body), body === null ? 0 : body.byteLength, -1);
}

/** Webhooks the decision carries: POST each JSON body; the answer is not waited on beyond its head. */
function notifyAll(d: Decision): void {
  for (let i = 0; i < d.notifications; i++) {
    const response = sendTo('POST', d.notifyUrls![i], makeFields(['content-type'], ['application/json'], 0), utf8(d.notifyBodies![i]));
    if (response >= 0) drop_incoming_response(response);
  }
}

const PROBE_FIELD = 'kgents-probe-';
/** The client's address, from a reflex to the next in a chain; trusted only from Spin's chaining peer. */
const CLIENT_FIELD = 'kgents-client';
const CHAINED_PEER = '0.0.0.0';
const CHAIN_HOST = '.spin.internal';
const FORWARDED_FOR = 'x-forwarded-for';
const FORWARDED_HOST = 'x-forwarded-host';
const VIA = 'via';
const OWN_VIA = '1.1 kgents';

/** Probe results are this module's own: a client that sent `kgents-probe-0: 200` would fake a healthy upstream. */
function dropProbeResults(req: Request): void {
  for (let i = req.names.length - 1; i >= 0; i--) {
    if (!req.names[i].startsWith(PROBE_FIELD)) continue;
    req.names.splice(i, 1);
    req.values.splice(i, 1);
  }
}

/** Health probes: GET each URL, then decide again with `kgents-probe-<i>: <status>` (0 = unreachable). */
function probe(req: Request, d: Decision, decide: (req: Request) => Decision): Decision {
  for (let i = 0; i < d.values.length; i++) {
    const response = sendTo('GET', d.values[i], makeFields([], [], 0), null);
    let status = 0;
    if (response >= 0) {
      status = incoming_response_status(response);
      drop_incoming_response(response);
    }
    req.add(PROBE_FIELD + decimal(i), decimal(status));
  }
  return decide(req);
}

/**
 * The flags say which paths this reflex can take, and `bodyBytes` how much of a request body it
 * reads (0: none; else compiler/abi.ts's REFLEX_BODY_BYTES); the generated entry passes literals.
 */
export function handleHttp(request: i32, outparam: i32, decide: (req: Request) => Decision, forwards: bool, probes: bool, webhooks: bool, bodyBytes: i32): void {
  const req = readRequest(request, bodyBytes);
  drop_incoming_request(request);
  if (probes) dropProbeResults(req);
  let d = decide(req);
  if (probes && d.action == ACTION_PROBE) d = probe(req, d, decide);
  if (webhooks) notifyAll(d);
  if (forwards && d.action == ACTION_FORWARD) forward(req, d, outparam);
  else sendDecision(outparam, d);
  closeBody();
}
