/** Process entry of the `secrets-dr` command (bin/secrets-dr.mjs imports the built copy). */
import { main } from './main.js';

// The AWS SDK warns on every process about Node 20's end of support; the README says so once.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await main(process.argv.slice(2));
// The command is done. The Temporal Core runtime (installed by commands that run workers) can keep
// the event loop alive for a while after every worker stopped: do not make the user wait for it.
// (stdout/stderr writes are synchronous for files, pipes and terminals on Linux, so nothing is lost.)
setTimeout(() => process.exit(), 200).unref();
