#!/usr/bin/env node
// The CLI is TypeScript; tsx loads it (and user ReflexSpec files) without a separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/index.ts');
const code = await main(process.argv);
// A command that failed exits now: servers it had already started (say, the nucleus, when
// `kgents up` then finds the host's port taken) must not keep the process alive.
if (code !== 0) process.exit(code);
process.exitCode = code;
