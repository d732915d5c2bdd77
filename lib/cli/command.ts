// What every command of the CLI is made of: its options (from which both the parser and the
// help text are made, so the help cannot miss one), its examples and its action.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export const PROGRAM = 'local-response-norm';

/** The package's version, from its package.json (two folders up from dist/cli/ and lib/cli/). */
export function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Bad input: a one-line message on stderr and exit code 2 (or `exitCode`). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

export interface OptionSpec {
  readonly name: string;
  readonly short?: string;
  /** Placeholder for the value in the help (`<file>`); absent for a flag. */
  readonly value?: string;
  readonly help: string;
  /** How it is used, shown under its help line. */
  readonly example: string;
}

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  /** Paragraphs after the usage line. */
  readonly description: readonly string[];
  readonly options: readonly OptionSpec[];
  readonly examples: readonly string[];
  action(args: Parsed): Promise<void>;
}

export const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', help: 'show this help', example: '--help' };

/** Parses `argv` against the command's options; a bad command line is a CliError. */
export function parse(command: Command, argv: readonly string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const o of [...command.options, HELP_OPTION]) {
    options[o.name] = { type: o.value === undefined ? 'boolean' : 'string', ...(o.short === undefined ? {} : { short: o.short }) };
  }
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values, positionals };
  } catch (e) {
    // parseArgs explains itself (unknown option, missing value); its message is kept, on one line,
    // but for the advice on positionals that start with '-' after an unknown option's name.
    const { message, code } = e as NodeJS.ErrnoException;
    const said = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? message.replace(/\. To specify a positional[^]*$/, '') : message;
    throw new CliError(`${command.name}: ${oneLine(said)} (see ${PROGRAM} help ${command.name})`);
  }
}

export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

/** The help of one command: usage, description, every option with an example, examples. */
export function helpText(command: Command): string {
  const flag = (o: OptionSpec) =>
    `${o.short === undefined ? '    ' : `-${o.short}, `}--${o.name}${o.value === undefined ? '' : ` ${o.value}`}`;
  const options = [...command.options, HELP_OPTION];
  const width = Math.max(...options.map((o) => flag(o).length)) + 2;
  const lines = [`Usage: ${PROGRAM} ${command.usage}`, ''];
  for (const paragraph of command.description) lines.push(...wrap(paragraph, 0), '');
  lines.push('Options:');
  for (const o of options) {
    const [first = '', ...rest] = wrap(o.help, width + 2);
    lines.push(`  ${flag(o).padEnd(width)}${first.trimStart()}`, ...rest, `${' '.repeat(width + 2)}e.g. ${o.example}`);
  }
  lines.push('', 'Examples:', ...command.examples.map((e) => `  ${PROGRAM} ${e}`));
  return `${lines.join('\n')}\n`;
}

/** Words of `text` in lines of at most 100 columns, each indented by `indent`. */
function wrap(text: string, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent + line.length + 1 + word.length > 100) {
      lines.push(' '.repeat(indent) + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(' '.repeat(indent) + line);
  return lines;
}

/** A positive integer option value, for the CLI's own options (the library checks its own). */
export function positiveInteger(command: string, option: string, text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new CliError(`${command}: expected a positive integer for --${option} but received ${JSON.stringify(text)}`);
  }
  return n;
}
