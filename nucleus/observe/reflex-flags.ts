import type { EventEmitter } from 'node:events';
import type { SensorEvent } from '../../cytoplasm/sensors.ts';
import type { EventHub } from './hub.ts';

/**
 * Mirrors the flags that sensor reflexes raise and lower into the nucleus's observe stream,
 * so whoever watches the agents also sees the reflexes change the system's mode.
 */
export function mirrorReflexFlags(host: EventEmitter, hub: EventHub): () => void {
  const onSensor = (event: SensorEvent) => {
    for (const e of event.report.events) {
      if (e.kind === 'raised' || e.kind === 'lowered') hub.publish(e.kind === 'raised' ? 'flag.raised' : 'flag.lowered', { reflex: event.reflex, flag: e.a, level: event.report.level });
    }
  };
  host.on('sensor', onSensor);
  return () => host.off('sensor', onSensor);
}
