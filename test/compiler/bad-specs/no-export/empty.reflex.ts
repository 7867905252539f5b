import { defineReflex } from 'kgents-edge';
const spec = defineReflex({ kind: 'health', name: 'empty', description: 'x', checks: [{ kv: true }] });
void spec;
