import type { Command } from 'commander';

// Filled in by the nucleus work (issue 5).
export function registerNucleus(_program: Command): void {}
