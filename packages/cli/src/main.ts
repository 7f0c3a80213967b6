// The `concord` executable (bin/concord.js loads this): runs the command line and exits.
import { runCli } from './run-cli.js';

process.exitCode = await runCli(process.argv.slice(2));
