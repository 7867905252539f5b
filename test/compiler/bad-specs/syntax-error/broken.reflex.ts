import { defineReflex } from 'kgents-edge';
export default defineReflex({
  kind: 'router', name: 'broken',
  description: 'missing a closing brace',
  rules: [
