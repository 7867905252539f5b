// The decide interface's byte layouts; compiler/abi.ts is the TypeScript side. Keep in step.
//
// request  = str method, str path, str query, str client, u16 n, n x (str name, str value), u32 len, body
// decision = u8 action, u16 status, str target, u16 n, n x (str name, str value), u32 len, body,
//            u16 m, m x (str url, u32 len, JSON body)   (webhooks to POST before answering)
// str = u16 length + UTF-8. Header names are lower case. The host sends only the headers the
// reflex declared it reads (see the build's app.json), which keeps the hot path short.
import { Reader, Writer, Bytes } from './abi';

export const ACTION_RESPOND: u32 = 0;
export const ACTION_FORWARD: u32 = 1;
/** Health checks: the host fetches the URLs in the headers and calls decide again with results. */
export const ACTION_PROBE: u32 = 2;

export class Request {
  method: string = '';
  path: string = '';
  query: string = '';
  client: string = '';
  names: string[] = [];
  values: string[] = [];
  body: Bytes = new Bytes(0, 0);
  private text: string | null = null;

  /** A field's value; a field sent more than once reads as its values joined with ", " (RFC 9110 5.3), as the embedded host reads it. */
  header(name: string): string | null {
    let value: string | null = null;
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i] != name) continue;
      value = value === null ? this.values[i] : value + ', ' + this.values[i];
    }
    return value;
  }

  /** A field the reflex adds to what it passes on. */
  add(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
  }

  /** Decoded once: every body rule reads it, and each decode takes twice the body's size in the arena. */
  bodyText(): string {
    let text = this.text;
    if (text === null) this.text = text = this.body.toString();
    return text;
  }
}

export function decodeRequest(ptr: usize, len: i32): Request {
  const r = new Reader(ptr, len);
  const req = new Request();
  req.method = r.str();
  req.path = r.str();
  req.query = r.str();
  req.client = r.str();
  const n = r.u16();
  for (let i: u32 = 0; i < n; i++) {
    req.names.push(r.str());
    req.values.push(r.str());
  }
  req.body = r.bytes(r.u32());
  return req;
}

export class Decision {
  action: u32 = ACTION_RESPOND;
  status: u32 = 200;
  target: string = '';
  names: string[] = [];
  values: string[] = [];
  body: string = '';
  /** Webhooks to POST (JSON) before answering: a sensor that ticked through its route. Rare: allocated on first use. */
  notifyUrls: string[] | null = null;
  notifyBodies: string[] | null = null;

  header(name: string, value: string): Decision {
    this.names.push(name);
    this.values.push(value);
    return this;
  }

  notify(url: string, body: string): Decision {
    if (this.notifyUrls === null) {
      this.notifyUrls = [];
      this.notifyBodies = [];
    }
    this.notifyUrls!.push(url);
    this.notifyBodies!.push(body);
    return this;
  }

  get notifications(): i32 {
    return this.notifyUrls === null ? 0 : this.notifyUrls!.length;
  }

  encode(): Writer {
    const w = new Writer(128 + this.body.length);
    w.u8(this.action);
    w.u16(this.status);
    w.str(this.target);
    w.u16(<u32>this.names.length);
    for (let i = 0; i < this.names.length; i++) {
      w.str(this.names[i]);
      w.str(this.values[i]);
    }
    w.text(this.body);
    const n = this.notifications;
    w.u16(<u32>n);
    for (let i = 0; i < n; i++) {
      w.str(this.notifyUrls![i]);
      w.text(this.notifyBodies![i]);
    }
    return w;
  }
}

export function respond(status: u32, contentType: string, body: string): Decision {
  const d = new Decision();
  d.status = status;
  d.body = body;
  if (contentType.length > 0) d.header('content-type', contentType);
  return d;
}

/**
 * An error answer in the host's own shape. `message` and `extra` (more members, each led by a
 * comma) are JSON already. One builder rather than a literal each: the bodies' shared text is
 * static data once, which keeps a rate limit's in its instance's first memory page.
 */
export function jsonError(status: u32, code: string, message: string, extra: string = ''): Decision {
  return respond(status, 'application/json', '{"error":{"code":"' + code + '","message":"' + message + '"' + extra + '}}');
}

export function forward(target: string): Decision {
  const d = new Decision();
  d.action = ACTION_FORWARD;
  d.target = target;
  return d;
}

/** JSON string literal with the escapes JSON requires. */
export function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 34) out += '\\"';
    else if (c == 92) out += '\\\\';
    else if (c < 32) out += c == 10 ? '\\n' : c == 13 ? '\\r' : c == 9 ? '\\t' : ' ';
    else out += String.fromCharCode(c);
  }
  return out + '"';
}
