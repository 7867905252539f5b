import { startFakeLlm } from '../../test/support/fake-llm-upstream.ts';

// The FAKE LLM upstream in its own process, for benchmarks. Prints its URL, runs until killed.
const fake = await startFakeLlm(() => 'a short fixed answer of eight words here');
process.stdout.write(`${fake.url}\n`);
