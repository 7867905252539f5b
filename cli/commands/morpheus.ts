import type { Command } from 'commander';

// Filled in by the Morpheus work (issue 4).
export function registerMorpheus(_program: Command): void {}
