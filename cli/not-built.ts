import type { Command } from 'commander';

/**
 * Commands of CONTRACT.md whose implementation has not landed yet. They exist so `--help` shows
 * the whole surface, and they say so plainly and exit non-zero instead of pretending to work.
 */
const pending: Array<{ name: string; args?: string; description: string; issue: string }> = [
];

export function registerPendingCommands(program: Command): void {
  for (const command of pending) {
    const cmd = program.command(command.args ? `${command.name} ${command.args}` : command.name).description(`${command.description} (not built yet)`);
    cmd.allowUnknownOption(true).allowExcessArguments(true);
    cmd.action(() => {
      console.error(`pdmctl ${command.name} is not built yet: it arrives with ${command.issue}.`);
      process.exitCode = 2;
    });
  }
}
