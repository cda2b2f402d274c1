/**
 * Confirmation before anything destructive, as the AWS console does before it promotes a replica:
 * show what will change, then have the operator type the target Region's name. Asked only when
 * stdin is a terminal and `--yes` is absent; without a terminal nothing is asked and nothing
 * waits here (the plan's approval gate governs). A wrong answer aborts with exit 2 before anything
 * is started. The conversation goes to stderr, so stdout stays one JSON document with --json.
 */
import { createInterface } from 'node:readline';
import { ErrorType, ExitCode, OperatorError } from '../domain/errors.js';
import { paint, symbol, type Io } from './output.js';

interface Confirmation {
  /** What will change: counts per Region, groups, the expected duration. */
  preview: string[];
  /** What starts when the operator confirms ("fail over to ap-northeast-3"). */
  action: string;
  /** What the operator must type: the target Region (several: comma-separated, in this order), or the target account id. */
  regions: string[];
  /** What `regions` are, in the prompt and the abort message (default: "the Region"). */
  noun?: string;
}

/** Ask only on a terminal and without --yes. */
export function shouldConfirm(yes: boolean, stdin: { isTTY?: boolean } = process.stdin): boolean {
  return !yes && Boolean(stdin.isTTY);
}

function readAnswer(prompt: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<string | undefined> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output, terminal: true });
    let answered = false;
    rl.once('close', () => {
      if (!answered) output.write('\n');
      resolve(undefined);
    });
    rl.once('SIGINT', () => rl.close());
    rl.question(prompt, (answer) => {
      answered = true;
      resolve(answer);
      rl.close();
    });
  });
}

/** Shows the preview, asks for the Region; resolves when confirmed, throws (exit 2) otherwise. */
export async function confirmByRegion(
  io: Pick<Io, 'color'>,
  c: Confirmation,
  streams: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream } = {},
): Promise<void> {
  const output = streams.output ?? process.stderr;
  for (const line of c.preview) output.write(`${line}\n`);
  const expected = c.regions.join(',');
  const noun = c.noun ?? (c.regions.length > 1 ? 'the Regions, comma-separated' : 'the Region');
  const answer = await readAnswer(`${paint(io, 'bold', `To ${c.action}, type ${noun} (${expected}):`)} `, streams.input ?? process.stdin, output);
  const typed = answer?.replace(/\s+/g, '');
  if (typed === expected) {
    output.write(`${symbol(io, 'ok')} confirmed: ${c.action}\n`);
    return;
  }
  const said = answer === undefined ? 'no answer' : typed ? `"${answer.trim()}" is not ${expected}` : 'an empty answer';
  throw new OperatorError(
    ErrorType.UsageError,
    `aborted (${said}): nothing was started. Type ${c.noun ?? 'the Region'} exactly to go ahead, or pass --yes to skip this question.`,
    [],
    ExitCode.BadInput,
  );
}
