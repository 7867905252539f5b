import { createLogger } from '../../common/log.ts';
import { startMorpheus } from '../../nucleus/morpheus/index.ts';

// Morpheus in its own process, as it deploys, in front of the upstream given. Prints its URL, runs until killed.
const morpheus = await startMorpheus({ port: 0, env: { MORPHEUS_UPSTREAM_URL: `${process.argv[2]}/v1` }, logger: createLogger('bench', 'silent') });
process.stdout.write(`${morpheus.url}\n`);
