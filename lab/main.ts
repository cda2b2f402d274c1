/**
 * Entry of the background lab process started by `secrets-dr lab up`:
 *   node dist/lab/main.js --port N [--regions r1,r2] [--state FILE] [--replication-lag-ms N] [--replica-delete-delay-ms N]
 * Stops cleanly (state saved) on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { startLab } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    regions: { type: 'string' },
    state: { type: 'string' },
    'replication-lag-ms': { type: 'string' },
    'replica-delete-delay-ms': { type: 'string' },
    'account-id': { type: 'string' },
  },
});

const lab = await startLab({
  port: Number(values.port),
  host: values.host,
  regions: values.regions?.split(',').map((r) => r.trim()).filter(Boolean),
  statePath: values.state,
  replicationLagMs: values['replication-lag-ms'] ? Number(values['replication-lag-ms']) : undefined,
  replicaDeleteDelayMs: values['replica-delete-delay-ms'] ? Number(values['replica-delete-delay-ms']) : undefined,
  accountId: values['account-id'],
  log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`${new Date().toISOString()} lab listening on ${lab.url} (${lab.regions.length} Regions)\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await lab.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
