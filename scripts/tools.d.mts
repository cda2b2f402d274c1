/** Types for scripts/tools.mjs (plain JS so it runs before `npm install`). */
export declare const PINS: {
  temporalBin: string;
  temporalGoModule: string;
  moto: string;
  boto3: string;
  awscli: string;
  hadolint: string;
  cfnLint: string;
  checkov: string;
};
export declare const ROOT: string;
export declare const TOOLS_DIR: string;
export declare class ToolError extends Error {}
export interface ToolPaths {
  temporal?: string;
  temporalSource?: string;
  moto?: string;
  motoSource?: string;
  /** .tools/venv's python (with boto3) and AWS CLI v1, installed with moto. */
  python?: string;
  awsCli?: string;
  hadolint?: string;
  hadolintSource?: string;
  cfnLint?: string;
  cfnLintSource?: string;
  checkov?: string;
  checkovSource?: string;
  /** Debian's chromium (dashboard browser tests), or why it is missing. */
  chromium?: string;
  chromiumSource?: string;
  chromiumMissing?: string;
}
export declare function ensureTools(
  want?: { temporal?: boolean; moto?: boolean; hadolint?: boolean; cfnLint?: boolean; checkov?: boolean; chromium?: boolean },
  log?: (line: string) => void,
): ToolPaths;
export interface ChromiumResult {
  path?: string;
  source?: string;
  /** Why there is no Chromium (the browser tests print it when they skip). */
  missing?: string;
}
export declare function resolveChromium(deps?: {
  install?: boolean;
  env?: Record<string, string | undefined>;
  isRoot?: boolean;
  find?: (name: string) => string | undefined;
  executable?: (path: string) => boolean;
  runner?: (cmd: string, args: string[], opts?: object) => { ok: boolean; out: string };
  log?: (line: string) => void;
}): ChromiumResult;
export declare function findChromium(env?: Record<string, string | undefined>): ChromiumResult;
export declare function cachedTools(): { temporal?: string; moto?: string };
