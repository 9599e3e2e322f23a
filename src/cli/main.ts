#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { PaxlogError } from '../client/errors.js';
import { natsAccessFlagTable, natsFailureLine, natsUrlOf } from './args.js';
import { devCommand, devUsage } from './devCommand.js';
import { demoCommand, demoUsage } from './demoCommand.js';
import { appendCommand, logCommandsUsage, readCommand, tailCommand } from './logCommands.js';
import { nodeCommand, nodeFlagTable, nodeUsage } from './nodeCommand.js';
import { statusCommand, statusUsage } from './statusCommand.js';

const usage = `paxlog: a replicated log on Multi-Paxos and NATS

${nodeUsage}

${devUsage}

${statusUsage}

${logCommandsUsage}

${demoUsage}
`;

/** Every flag that takes a value: the node's (its table), the other commands', and NATS access. */
const flagNames = [
  ...nodeFlagTable.map((row) => row.flag),
  'config', 'log', 'key', 'from', 'limit', 'expected-offset',
  ...natsAccessFlagTable.map((row) => row.flag),
];

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  const options = Object.fromEntries(flagNames.map((name) => [name, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: rest, options: { ...options, json: { type: 'boolean' }, watch: { type: 'boolean' }, help: { type: 'boolean' }, exit: { type: 'boolean' } }, strict: true, allowPositionals: true });
    values = parsed.values;
    positionals = parsed.positionals;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values['help'] === true) {
    process.stdout.write(usage);
    return 0;
  }
  try {
    return await runCommand({ command, values, positionals });
  } catch (error) {
    process.stderr.write(`${failureText(error, { nats: natsUrlOf(values) })}\n`);
    return 1;
  }
}

function runCommand(options: { command: string; values: Record<string, string | boolean | undefined>; positionals: string[] }): Promise<number> {
  const { command, values, positionals } = options;
  switch (command) {
    case 'node':
      return nodeCommand(values);
    case 'dev':
      return devCommand(values);
    case 'status':
      return statusCommand(values);
    case 'append':
      return appendCommand(values, positionals);
    case 'tail':
      return tailCommand(values);
    case 'read':
      return readCommand(values);
    case 'demo':
      return demoCommand(values);
    default:
      process.stderr.write(`unknown command ${command}\n\n${usage}`);
      return Promise.resolve(2);
  }
}

/**
 * What to print for an error that ends a command: an operating error (NATS unreachable or refusing
 * us, a paxlog error reply such as no leader or a timeout) as its message and where it happened;
 * anything else, a bug, with its stack.
 */
function failureText(error: unknown, options: { nats: string }): string {
  const natsFailure = natsFailureLine(error, { url: options.nats });
  if (natsFailure !== null) return natsFailure;
  if (error instanceof PaxlogError) return `paxlog: ${error.name}: ${error.message}`;
  return `paxlog: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`paxlog: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
