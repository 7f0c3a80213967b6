/** Exit codes the `concord` command returns; scripts can branch on them. */
export const ExitCode = {
  OK: 0,
  /** The service answered with an error (404, 409, 4xx, 5xx). */
  REFUSED: 1,
  /** The command line itself is wrong (unknown command, missing option). */
  USAGE: 2,
  /** The service could not be reached (connection refused, DNS, timeout). */
  UNREACHABLE: 3,
  /** The token is missing or wrong (401). */
  UNAUTHORIZED: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI reports as one line on stderr before exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
