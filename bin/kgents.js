#!/usr/bin/env node
// The CLI is TypeScript; tsx loads it (and user ReflexSpec files) without a separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/index.ts');
process.exitCode = await main(process.argv);
