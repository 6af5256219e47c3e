import { SpikewasmError } from '@spikewasm/core-wasm';

/**
 * An error of the command itself (a file that cannot be read or written, a model it does not know, a missing
 * argument), shown as one line. `exitCode` 2 marks a usage error, 1 anything else.
 */
export class CliError extends SpikewasmError {
  override name = 'CliError';

  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
  }
}

/** A wrong command line: unknown option or command, missing or extra argument, empty value. Exit code 2. */
export class UsageError extends CliError {
  override name = 'UsageError';

  constructor(message: string) {
    super(message, 2);
  }
}

/** A feature the command names but does not have yet (a model factory, `--stream`, a subcommand). Exit code 1. */
export class NotSupportedError extends CliError {
  override name = 'NotSupportedError';
}
