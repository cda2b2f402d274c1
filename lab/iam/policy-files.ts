/** `--iam-policy FILE` / `--iam-policy AKID=FILE`: the policy files read and checked, ready for `startLab({ iamPolicies })`. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parsePolicyBinding } from './enforcer.js';
import { parsePolicy, PolicyError, type IamPolicy } from './policy.js';

export interface PolicyBinding {
  accessKeyId: string;
  policy: IamPolicy;
  /** The file, absolute. */
  source: string;
}

/** Reads every `[AKID=]FILE`; the error names the option value, the file and what is wrong. */
export function loadPolicyBindings(specs: readonly string[]): PolicyBinding[] {
  return specs.map((spec) => {
    let binding;
    try {
      binding = parsePolicyBinding(spec);
    } catch (e) {
      throw new PolicyError((e as Error).message);
    }
    const file = resolve(binding.file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new PolicyError(
        `--iam-policy ${spec}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give an IAM policy JSON file, e.g. \`secrets-dr iam-policy --role worker -f plan.yaml > worker.json\``,
      );
    }
    return { accessKeyId: binding.accessKeyId, policy: parsePolicy(text, `--iam-policy ${spec}`), source: file };
  });
}
