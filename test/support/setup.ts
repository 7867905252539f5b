import { afterAll } from 'vitest';
import { removeScratchProjects } from './tmp.ts';

// Test workers are stopped, not exited, so the scratch folders a file made go when it ends.
afterAll(removeScratchProjects);
