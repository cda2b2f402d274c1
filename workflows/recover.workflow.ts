/**
 * recover (EventBridge-driven, id `secrets-dr/<plan>/recover`): hints arrive as signals (receiver
 * or Lambda: signal-with-start; the monitor: signal or child start). The recover machine decides;
 * the steps (recover.steps.ts) run its effects: probes of every Region (the primary's N consecutive
 * failures confirm the outage), the veto window, the approval gate, and the failover itself — an
 * abandoned child with id `failoverWorkflowId(plan)`, so a failover already running is attached to,
 * never duplicated. The run ends after `idleTimeoutMs` without hints; it continues as new (bounded
 * dedup memory) when long. Both are the machine's decisions (its output).
 */
import { continueAsNew, setHandler } from '@temporalio/workflow';
import { RecoverPhase, VetoRequest, type RecoverInput, type RecoverStatus } from '../domain/recover.js';
import { MachineDriver } from './kit/index.js';
import { recoverMachine } from './machines/recover.machine.js';
import { recoverHintSignal, recoverStatusQuery, recoverVetoUpdate } from './recover.messages.js';
import { RecoverRun } from './recover.steps.js';

export async function recoverWorkflow(raw: RecoverInput): Promise<RecoverStatus> {
  const run = new RecoverRun(raw);
  const { plan } = run;
  const machine = new MachineDriver(recoverMachine, run.machineInput());
  const phase = () => RecoverPhase.catch('idle').parse(machine.state);
  const carried = (run.input.carry?.hints ?? 0) + (run.input.carry?.duplicates ?? 0);
  const nowIso = () => new Date().toISOString();

  setHandler(recoverHintSignal, (hint) => machine.send({ type: 'HINT', hint, at: nowIso() }));
  setHandler(
    recoverVetoUpdate,
    (req) => {
      machine.send({ type: 'VETO', at: nowIso(), by: req?.by, reason: req?.reason });
      return { vetoed: true as const };
    },
    {
      // Synchronous: a veto outside the window is refused and never reaches history.
      validator: (req) => {
        VetoRequest.parse(req ?? {});
        if (machine.state !== 'vetoWindow') throw new Error(`no veto window is open (recover is ${phase()})`);
      },
    },
  );
  run.gate.install(() => `recover is ${phase()}`);
  const status = (): RecoverStatus => {
    const c = machine.context;
    return {
      plan: plan.name,
      phase: phase(),
      hints: c.hints,
      duplicates: c.duplicates,
      failovers: c.failovers,
      lastHint: c.lastHint,
      failedProbes: c.failedProbes,
      lastFailoverAt: c.lastFailoverAtMs !== undefined ? new Date(c.lastFailoverAtMs).toISOString() : undefined,
      failoverWorkflowId: run.failoverId ?? c.lastFailoverId,
      ...(c.target ? { target: c.target } : {}),
      ...(machine.state === 'vetoWindow' && run.vetoWindowEndsAt ? { vetoWindowEndsAt: run.vetoWindowEndsAt } : {}),
      journal: c.journal,
    };
  };
  setHandler(recoverStatusQuery, status);
  if (run.input.hint) machine.send({ type: 'HINT', hint: run.input.hint, at: nowIso() });

  const end = await machine.run({
    awaitHint: () =>
      run.awaitHint(
        () => machine.state === 'idle',
        () => machine.context.hints + machine.context.duplicates - carried,
      ),
    probe: () => run.probe(machine.context.failedProbes === 0),
    openVetoWindow: () => run.vetoWindow(() => machine.state === 'vetoWindow'),
    requestApproval: () => run.requestApproval(machine.context.target ?? '', () => machine.state === 'awaitingApproval'),
    startFailover: () => run.startFailover(machine.context, (e) => machine.send(e)),
  });
  if (end === 'rollOver') await continueAsNew<typeof recoverWorkflow>({ ...run.input, hint: undefined, carry: run.carry(machine.context) });
  return { ...status(), phase: 'idle' };
}
