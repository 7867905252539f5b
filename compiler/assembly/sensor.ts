// Pheromone sensing over the wire format of common/pheromone.ts:
// `<emittedAtMs> <intensity0> <halfLifeMs> <expiresAtMs|0> <target|*> <json>\n` per deposit,
// one key per type. Intensity is computed on read: I0 * 0.5 ^ (age / halfLife), clamped.
import { Bytes, Writer, decimal, formatDecimal } from './abi';
import { Decision } from './codec';
import { bucket, kvDelete, kvGet, kvSet, storeFailed, CasUpdate, kvCas } from './wasi';

export class SensorConfig {
  name: string = '';
  store: string = 'default';
  type: string = 'WARNING';
  /** Empty = every target. Broadcast deposits always count. */
  target: string = '';
  aggregateMax: bool = false;
  rise: f64 = 0.7;
  fall: f64 = 0.3;
}

export const EVENT_RAISED: u32 = 1;
export const EVENT_LOWERED: u32 = 2;
export const EVENT_WEBHOOK: u32 = 3;
export const EVENT_STORE_DOWN: u32 = 4;

function readNumber(p: usize, end: usize, out: StaticArray<f64>, slot: i32): usize {
  let v: f64 = 0;
  let frac: f64 = 0;
  let scale: f64 = 1;
  let inFrac = false;
  while (p < end) {
    const c = <i32>load<u8>(p);
    if (c == 32) break;
    if (c == 46) inFrac = true;
    else if (c >= 48 && c <= 57) {
      if (inFrac) {
        scale /= 10;
        frac += <f64>(c - 48) * scale;
      } else v = v * 10 + <f64>(c - 48);
    } else if (c == 101 || c == 69) {
      // exponent form (tiny intensities): treat as 0, it is below any threshold
      v = 0;
      frac = 0;
      while (p < end && load<u8>(p) != 32) p++;
      break;
    }
    p++;
  }
  out[slot] = v + frac;
  return p + 1;
}

function targetMatches(p: usize, end: usize, target: string): bool {
  let n: i32 = 0;
  while (p + <usize>n < end && load<u8>(p + <usize>n) != 32) n++;
  if (n == 1 && load<u8>(p) == 42) return true; // broadcast
  if (target.length == 0) return true;
  if (n != target.length) return false;
  for (let i = 0; i < n; i++) if (<i32>load<u8>(p + <usize>i) != target.charCodeAt(i)) return false;
  return true;
}

/** Sum (or max) of live intensities of matching deposits, clamped to [0, 1]. */
export function sense(value: Bytes, cfg: SensorConfig, nowMs: f64): f64 {
  const nums = new StaticArray<f64>(4);
  let p = value.ptr;
  const end = value.ptr + <usize>value.len;
  let total: f64 = 0;
  while (p < end) {
    let q = p;
    q = readNumber(q, end, nums, 0);
    q = readNumber(q, end, nums, 1);
    q = readNumber(q, end, nums, 2);
    q = readNumber(q, end, nums, 3);
    const emitted = nums[0];
    const expires = nums[3];
    let lineEnd = q;
    while (lineEnd < end && load<u8>(lineEnd) != 10) lineEnd++;
    if (q < end && targetMatches(q, lineEnd, cfg.target) && (expires == 0 || nowMs < expires) && nums[2] > 0) {
      const age = nowMs > emitted ? nowMs - emitted : 0;
      // 0.5 ^ x as exp(-x ln 2): the same value, without pulling pow into the component.
      let intensity = nums[1] * Math.exp(-(age / nums[2]) * 0.6931471805599453);
      if (intensity > 1) intensity = 1;
      if (intensity >= 0.01) {
        if (cfg.aggregateMax) total = intensity > total ? intensity : total;
        else total += intensity;
      }
    }
    p = lineEnd + 1;
  }
  return total > 1 ? 1 : total;
}

/** Appends one deposit line (same format the nucleus writes). */
class AppendLine extends CasUpdate {
  constructor(public line: string) {
    super();
  }
  next(current: Bytes | null): string | null {
    return current === null ? this.line : current.toString() + this.line;
  }
}

export function deposit(store: string, type: string, target: string, intensity: f64, halfLifeMs: i64, nowMs: i64, source: string, id: string): bool {
  const line = decimal(nowMs) + ' ' + formatDecimal(intensity) + ' ' + decimal(halfLifeMs) + ' 0 ' + (target.length == 0 ? '*' : target) + ' {"id":"' + id + '","source":"' + source + '","payload":null}\n';
  return kvCas(bucket(store), 'pheromone/' + type, new AppendLine(line));
}

export function flagUp(store: string, flag: string): bool {
  const v = kvGet(bucket(store), 'flag/' + flag);
  return v !== null && v.len == 1 && load<u8>(v.ptr) == 49;
}

export function setFlag(store: string, flag: string, up: bool): void {
  if (up) kvSet(bucket(store), 'flag/' + flag, '1');
  else kvDelete(bucket(store), 'flag/' + flag);
}

/** Hysteresis state of one sensor: "1" while risen. */
export function sensorState(cfg: SensorConfig): bool {
  const v = kvGet(bucket(cfg.store), 'sensor/' + cfg.name);
  return v !== null && v.len == 1 && load<u8>(v.ptr) == 49;
}

export function setSensorState(cfg: SensorConfig, up: bool): void {
  if (up) kvSet(bucket(cfg.store), 'sensor/' + cfg.name, '1');
  else kvDelete(bucket(cfg.store), 'sensor/' + cfg.name);
}

/** Tick report: u16 count, then per event u8 kind, str a, str b. */
export class Events {
  kinds: u32[] = [];
  a: string[] = [];
  b: string[] = [];
  level: f64 = 0;
  add(kind: u32, a: string, b: string): void {
    this.kinds.push(kind);
    this.a.push(a);
    this.b.push(b);
  }
  /** A tick run through the sensor's route: its webhooks go out with the answer. */
  notifyInto(d: Decision): Decision {
    for (let i = 0; i < this.kinds.length; i++) if (this.kinds[i] == EVENT_WEBHOOK) d.notify(this.a[i], this.b[i]);
    return d;
  }
  /** The level travels as millionths (i32; -1 = unknown) so no float formatting is needed. */
  encode(): Writer {
    const w = new Writer(64);
    w.u32(<u32>(<i32>Math.floor(this.level * 1_000_000 + 0.5)));
    w.u16(<u32>this.kinds.length);
    for (let i = 0; i < this.kinds.length; i++) {
      w.u8(this.kinds[i]);
      w.str(this.a[i]);
      w.text(this.b[i]);
    }
    return w;
  }
}

export function readField(cfg: SensorConfig): Bytes | null {
  const v = kvGet(bucket(cfg.store), 'pheromone/' + cfg.type);
  return storeFailed ? null : v;
}
