import type { Command } from 'commander';

export function registerUp(_program: Command): void {}
