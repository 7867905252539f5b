import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'pheromone-sensor', name: 'sensor', description: 'x', every: '50ms',
  senses: { type: 'WARNING' }, threshold: { rise: 0.7, fall: 0.3 },
});
