/**
 * The `secrets-dr` command: finds the command by its words, parses its options (zod first thing),
 * runs it, and maps every error to one exit code at this edge (DESIGN.md: 0 ok · 1 failed ·
 * 2 bad input · 3 some secrets need attention · 4 waiting for approval).
 */
import { ErrorType, ExitCode, OperatorError } from '../domain/errors.js';
import type { Command } from './command.js';
import { parseCommandArgs } from './command.js';
import { handleError } from './errors.js';
import { stdio } from './output.js';
import { planSchemaCommand, planShowCommand, planValidateCommand } from './commands/plan.js';
import { statusCommand } from './commands/status.js';
import { workerCommand } from './commands/worker.js';
import { labDownCommand, labEnvCommand, labFaultCommand, labResetCommand, labStatusCommand, labUpCommand } from './commands/lab.js';
import { labLambdaCreateCommand, labLambdaDeleteCommand, labLambdaListCommand } from './commands/lab-lambda.js';
import { labAccountListCommand, labAccountRestoreCommand, labAccountRevokeCommand, labRoleCreateCommand } from './commands/lab-account.js';
import { demoCommand } from './commands/demo.js';
import { approveCommand, rejectCommand } from './commands/approve.js';
import { vetoCommand } from './commands/veto.js';
import { setupCommand } from './commands/setup.js';
import { backupsListCommand, backupsPruneCommand, backupsRestoreCommand } from './commands/backups.js';
import { failoverCommand } from './commands/failover.js';
import { accountFailbackCommand, accountSetupCommand, accountStatusCommand } from './commands/account.js';
import { cancelCommand, pauseCommand, resumeCommand, watchCommand } from './commands/watch.js';
import { failbackCommand } from './commands/failback.js';
import { drillListCommand, drillRunCommand, drillScheduleCommand, drillUnscheduleCommand } from './commands/drill.js';
import { monitorStartCommand, monitorStopCommand } from './commands/monitor.js';
import { eventsInstallCommand, eventsSchemaCommand, eventsUninstallCommand } from './commands/events.js';
import { receiverCommand } from './commands/receiver.js';
import { packageVersion } from './version.js';
import { iamPolicyCommand } from './commands/iam-policy.js';
import { deploySynthCommand } from './commands/deploy.js';
import { dashboardCommand } from './commands/dashboard.js';
import { codecServerCommand } from './commands/codec-server.js';
import { commandHelp, helpCommand, topHelp } from './help.js';
import { completionCommand } from './completion.js';

export const COMMANDS: Command[] = [
  planValidateCommand,
  planShowCommand,
  planSchemaCommand,
  statusCommand,
  workerCommand,
  labUpCommand,
  labDownCommand,
  labEnvCommand,
  labStatusCommand,
  labFaultCommand,
  labResetCommand,
  labLambdaCreateCommand,
  labLambdaListCommand,
  labLambdaDeleteCommand,
  labAccountListCommand,
  labAccountRevokeCommand,
  labAccountRestoreCommand,
  labRoleCreateCommand,
  approveCommand,
  rejectCommand,
  vetoCommand,
  demoCommand,
  failoverCommand,
  accountSetupCommand,
  accountStatusCommand,
  accountFailbackCommand,
  watchCommand,
  pauseCommand,
  resumeCommand,
  cancelCommand,
  setupCommand,
  backupsListCommand,
  backupsRestoreCommand,
  backupsPruneCommand,
  drillRunCommand,
  drillScheduleCommand,
  drillUnscheduleCommand,
  drillListCommand,
  monitorStartCommand,
  monitorStopCommand,
  eventsInstallCommand,
  eventsUninstallCommand,
  eventsSchemaCommand,
  receiverCommand,
  failbackCommand,
  iamPolicyCommand,
  deploySynthCommand,
  dashboardCommand,
  codecServerCommand,
] as Command[];
COMMANDS.push(
  helpCommand(() => COMMANDS),
  completionCommand(() => COMMANDS),
);

export function findCommand(argv: string[]): { command?: Command; rest: string[] } {
  let best: Command | undefined;
  for (const c of COMMANDS) {
    if (c.words.every((w, i) => argv[i] === w) && (!best || c.words.length > best.words.length)) best = c;
  }
  return { command: best, rest: best ? argv.slice(best.words.length) : argv };
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const io = stdio(json);
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.out(json ? JSON.stringify({ name: 'secrets-dr', version: packageVersion(), node: process.versions.node }) : `secrets-dr ${packageVersion()}`);
    return ExitCode.Ok;
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    io.out(topHelp(COMMANDS, io));
    return argv.length === 0 ? ExitCode.BadInput : ExitCode.Ok;
  }
  const { command, rest } = findCommand(argv);
  try {
    if (!command) {
      const prefix = COMMANDS.filter((c) => c.words[0] === argv[0]).map((c) => c.words.join(' '));
      throw new OperatorError(
        ErrorType.UsageError,
        prefix.length ? `\`secrets-dr ${argv.join(' ')}\`: expected one of: ${prefix.join(', ')}` : `unknown command "${argv[0]}" (see \`secrets-dr --help\`)`,
      );
    }
    const parsed = parseCommandArgs(command, rest);
    if (parsed.help) {
      io.out(commandHelp(command, io));
      return ExitCode.Ok;
    }
    return await command.run(parsed.opts, io);
  } catch (err) {
    return handleError(err, io, { temporalAddress: process.env.TEMPORAL_ADDRESS });
  }
}
