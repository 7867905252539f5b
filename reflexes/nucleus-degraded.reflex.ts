import { defineReflex } from 'kgents-edge';

// Raises the `degraded` flag when WARNING pheromones aimed at the nucleus add up past 0.7,
// and lowers it once they decay under 0.3 (hysteresis, so the flag does not flap).
export default defineReflex({
  kind: 'pheromone-sensor',
  name: 'nucleus-degraded',
  description: 'Watches WARNING pheromones on the nucleus and raises the degraded flag',
  route: '/_reflexes/nucleus-degraded',
  every: '100ms',
  senses: { type: 'WARNING', target: 'nucleus', aggregate: 'sum' },
  threshold: { rise: 0.7, fall: 0.3 },
  onRise: [{ raiseFlag: 'degraded' }, { deposit: { type: 'STATE', target: 'nucleus', intensity: 1, halfLife: '1m' } }],
  onFall: [{ lowerFlag: 'degraded' }],
});
