/**
 * Entry of the background lab process started by `secrets-dr lab up`:
 *   node dist/lab/main.js --port N [--regions r1,r2] [--state FILE] [--replication-lag-ms N] [--replica-delete-delay-ms N]
 *     [--iam-policy [ACCESS_KEY_ID=]FILE ...]   (IAM policies enforced: every caller, or one access key; repeatable)
 * Stops cleanly (state saved) on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { loadPolicyBindings } from './iam/policy-files.js';
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
    'iam-policy': { type: 'string', multiple: true },
  },
});

const iamPolicies = loadPolicyBindings(values['iam-policy'] ?? []);
const lab = await startLab({
  iamPolicies,
  port: Number(values.port),
  host: values.host,
  regions: values.regions
    ?.split(',')
    .map((r) => r.trim())
    .filter(Boolean),
  statePath: values.state,
  replicationLagMs: values['replication-lag-ms'] ? Number(values['replication-lag-ms']) : undefined,
  replicaDeleteDelayMs: values['replica-delete-delay-ms'] ? Number(values['replica-delete-delay-ms']) : undefined,
  accountId: values['account-id'],
  log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`${new Date().toISOString()} lab listening on ${lab.url} (${lab.regions.length} Regions)\n`);
for (const b of iamPolicies)
  process.stdout.write(
    `${new Date().toISOString()} lab enforces IAM policy ${b.source} for ${b.accessKeyId === '*' ? 'every caller' : `access key ${b.accessKeyId}`}\n`,
  );

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await lab.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
