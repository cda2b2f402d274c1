/**
 * `secrets-dr veto ID --reason TEXT`: stop the automatic failover that recover is about to start.
 * Recover opens a veto window after its own probes confirmed an outage (plan `failover.automatic`);
 * a veto inside the window sends it back to idle and nothing is promoted. Outside the window the
 * workflow refuses the veto (exit 1, with its phase). `secrets-dr status` shows the window.
 */
import { z } from 'zod';
import { ExitCode } from '../../domain/errors.js';
import { recoverVetoUpdate } from '../../workflows/recover.messages.js';
import { defineCommand } from '../command.js';
import { operatorName } from '../operator.js';
import { printJson } from '../output.js';
import { withTemporal } from '../temporal.js';
import { sendUpdate } from '../workflow-update.js';

export const vetoCommand = defineCommand({
  words: ['veto'],
  summary: 'veto the automatic failover recover is about to start (only inside its veto window; nothing is promoted)',
  examples: ['secrets-dr veto secrets-dr/payments/recover --reason "primary is in planned maintenance"'],
  options: { reason: { type: 'string', description: 'why the failover must not happen (kept in the recover journal)', placeholder: 'TEXT' } },
  schema: z.object({
    positionals: z.tuple([z.string().min(1)], {
      error: 'expected exactly one WORKFLOW_ID (the recover workflow, e.g. secrets-dr/<plan>/recover; see `secrets-dr status`)',
    }),
    reason: z.string({ error: 'a veto needs --reason TEXT (it is kept in the recover journal)' }).min(1).max(1_000),
    json: z.boolean(),
  }),
  async run(o, io) {
    const id = o.positionals[0];
    const request = { reason: o.reason, by: operatorName() };
    return withTemporal({}, async (c) => {
      const result = await sendUpdate(c, id, recoverVetoUpdate, request);
      if (io.json) printJson(io, { workflowId: id, ...request, result });
      else io.out(`${id}: vetoed (${o.reason}); no failover`);
      return ExitCode.Ok;
    });
  },
});
