import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'pheromone-sensor', name: 'sensor', description: 'x', every: '1s',
  senses: { type: 'WARNING' }, threshold: { rise: 0.3, fall: 0.7 },
});
