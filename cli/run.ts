/** Process entry of the `secrets-dr` command (bin/secrets-dr.mjs imports the built copy). */
import { main } from './main.js';
import { installRuntime } from '../worker/runtime.js';

// The AWS SDK warns on every process about Node 20's end of support; the README says so once.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const level = process.env.SECRETS_DR_LOG_LEVEL?.toUpperCase();
installRuntime(level === 'TRACE' || level === 'DEBUG' || level === 'INFO' || level === 'WARN' || level === 'ERROR' ? level : process.argv[2] === 'worker' ? 'INFO' : 'WARN');

process.exitCode = await main(process.argv.slice(2));
