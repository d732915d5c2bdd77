#!/usr/bin/env node
// The `local-response-norm` command (docs/cli.md). Exit codes: 0 done, 2 bad input (command
// line, options, input files, an output path that cannot be written), 1 anything unexpected;
// every error is one line on stderr.
import { bench } from './bench.js';
import { CliError, HELP_OPTION, helpText, oneLine, parse, PROGRAM, version, type Command } from './command.js';
import { run } from './run.js';

const COMMANDS: readonly Command[] = [run, bench];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 'help'.length) + 2;
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Local Response Normalization (LRN) from the command line.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    `  ${'help'.padEnd(width)}this help, or one command's: help <command>`,
    '',
    'Options:',
    `  -h, --help     ${HELP_OPTION.help}`,
    '  --version      print the version',
    '',
    'Exit codes: 0 done, 2 bad input (command line, options, input files, output path), 1 anything else.',
    '',
  ].join('\n');
}

function commandNamed(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    const names = [...COMMANDS.map((c) => c.name), 'help'].join(', ');
    throw new CliError(`unknown command ${JSON.stringify(name)}: expected one of ${names} (see ${PROGRAM} --help)`);
  }
  return command;
}

async function main(argv: readonly string[]): Promise<void> {
  const [first, ...rest] = argv;
  if (first === undefined) throw new CliError(`expected a command: run, bench or help (see ${PROGRAM} --help)`);
  if (first === '--version') {
    process.stdout.write(`${version()}\n`);
  } else if (first === '--help' || first === '-h' || (first === 'help' && rest.length === 0)) {
    // The whole help: the overview, then every command's own.
    process.stdout.write([overview(), ...COMMANDS.map(helpText)].join('\n'));
  } else if (first === 'help') {
    if (rest.length > 1) throw new CliError(`help: expected one command name but received ${rest.join(' ')}`);
    process.stdout.write(helpText(commandNamed(rest[0]!)));
  } else {
    const command = commandNamed(first);
    const args = parse(command, rest);
    if (args.values.help === true) process.stdout.write(helpText(command));
    else await command.action(args);
  }
}

main(process.argv.slice(2)).then(
  () => {
    process.exitCode = 0;
  },
  (e: unknown) => {
    const bad = e instanceof CliError;
    const message = bad ? e.message : `unexpected error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
    process.stderr.write(`${PROGRAM}: ${oneLine(message)}\n`);
    process.exitCode = bad ? e.exitCode : 1;
  },
);
