import type { Command } from 'commander';

// Filled in by the SpinKube work (issue 6): push, scaffold, deploy, status, delete.
export function registerSpinKube(_program: Command): void {}
