import type { SensorAction, SensorSpec } from '../spec/schema.ts';
import { effectiveHalfLifeMs } from '../../common/pheromone.ts';
import type { KindBody } from './entry.ts';
import { bool, f64, i64, str, upstreamUrl } from './literals.ts';

function action(a: SensorAction, spec: SensorSpec, edge: 'rise' | 'fall'): string {
  if ('raiseFlag' in a) return `setFlag(STORE, ${str(a.raiseFlag)}, true);\n    events.add(EVENT_RAISED, ${str(a.raiseFlag)}, '');`;
  if ('lowerFlag' in a) return `setFlag(STORE, ${str(a.lowerFlag)}, false);\n    events.add(EVENT_LOWERED, ${str(a.lowerFlag)}, '');`;
  if ('deposit' in a) {
    const d = a.deposit;
    return `deposit(STORE, ${str(d.type)}, ${str(d.target ?? '')}, ${f64(d.intensity)}, ${i64(effectiveHalfLifeMs(d.type, d.halfLife))}, nowMs, REFLEX, REFLEX + '-' + decimal(nowMs));`;
  }
  const up = spec.upstreams[a.webhook.upstream];
  const body = `'{"reflex":' + jsonString(REFLEX) + ',"edge":"${edge}","level":' + formatDecimal(level) + '}'`;
  return `events.add(EVENT_WEBHOOK, ${upstreamUrl(up)} + ${str(a.webhook.path)}, ${body});`;
}

export function sensorBody(spec: SensorSpec): KindBody {
  const rise = spec.onRise.map((a) => `    ${action(a, spec, 'rise')}`).join('\n');
  const fall = spec.onFall.map((a) => `    ${action(a, spec, 'fall')}`).join('\n');
  return {
    imports: [`import { decimal, formatDecimal } from './abi';`, `import { Events, SensorConfig, sense, readField, sensorState, setSensorState, setFlag, deposit, EVENT_RAISED, EVENT_LOWERED, EVENT_WEBHOOK, EVENT_STORE_DOWN } from './sensor';`],
    body: `function config(): SensorConfig {
  const c = new SensorConfig();
  c.name = REFLEX;
  c.store = STORE;
  c.type = ${str(spec.senses.type)};
  c.target = ${str(spec.senses.target ?? '')};
  c.aggregateMax = ${bool(spec.senses.aggregate === 'max')};
  c.rise = ${f64(spec.threshold.rise)};
  c.fall = ${f64(spec.threshold.fall)};
  return c;
}

function tickEvents(): Events {
  const cfg = config();
  const events = new Events();
  const nowMs = nowMicros() / 1000;
  const field = readField(cfg);
  if (storeFailed) {
    events.add(EVENT_STORE_DOWN, STORE, '');
    events.level = -1.0;
    return events;
  }
  const level = field === null ? 0.0 : sense(field, cfg, <f64>nowMs);
  events.level = level;
  const up = sensorState(cfg);
  if (!up && level >= cfg.rise) {
    setSensorState(cfg, true);
${rise}
  } else if (up && level <= cfg.fall) {
    setSensorState(cfg, false);
${fall}
  }
  return events;
}

function runTick(): Writer {
  return tickEvents().encode();
}

/**
 * Under Spin a sensor has no timer: a request to its route runs one tick and reports it. The
 * tick's webhooks travel with the answer, for whoever serves it (Spin's wasi:http path or the host).
 */
function decideRequest(req: Request): Decision {
  const events = tickEvents();
  const cfg = config();
  return events.notifyInto(respond(200, 'application/json', '{"sensor":' + jsonString(REFLEX) + ',"up":' + (sensorState(cfg) ? 'true' : 'false') + '}'));
}`,
  };
}
