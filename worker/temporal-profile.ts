/**
 * Temporal's environment configuration profiles (@temporalio/envconfig): a TOML file
 * (TEMPORAL_CONFIG_FILE, default `$XDG_CONFIG_HOME/temporalio/temporal.toml`, i.e.
 * `~/.config/temporalio/temporal.toml`) holding named profiles (TEMPORAL_PROFILE, default
 * `default`). Precedence, per setting: environment variable > the profile > built-in default
 * (localhost:7233, namespace `default`, no TLS). A file named by TEMPORAL_CONFIG_FILE must exist;
 * the default file may be absent; a profile named by TEMPORAL_PROFILE must exist in the file.
 */
import { existsSync } from 'node:fs';
import { loadClientConfigProfile, type ClientConfigProfile } from '@temporalio/envconfig';
import { ErrorType, OperatorError } from '../domain/errors.js';

interface LoadedProfile {
  profile: ClientConfigProfile;
  /** "profile prod of /etc/temporal.toml", or undefined when no file was read. */
  origin?: string;
}

function configError(message: string): OperatorError {
  return new OperatorError(ErrorType.ConfigInvalid, message);
}

/** The profile's settings from the file only (environment variables are applied by the caller, validated). */
export function loadTemporalProfile(opts: { file?: string; profile?: string }, env: NodeJS.ProcessEnv = process.env): LoadedProfile {
  if (opts.file && !existsSync(opts.file)) {
    throw configError(`TEMPORAL_CONFIG_FILE=${opts.file}: no such file; point it at a Temporal TOML config file (see \`temporal config\`) or unset it`);
  }
  const lookup: Record<string, string> = {};
  for (const k of ['HOME', 'XDG_CONFIG_HOME', 'APPDATA', 'USERPROFILE']) if (env[k]) lookup[k] = env[k]!;
  const name = opts.profile ?? 'default';
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      profile: opts.profile,
      configSource: opts.file ? { path: opts.file } : undefined,
      configFileStrict: true,
      disableEnv: true,
      overrideEnvVars: lookup,
    });
  } catch (err) {
    const where = opts.file ? `TEMPORAL_CONFIG_FILE=${opts.file}` : 'the default Temporal config file (~/.config/temporalio/temporal.toml)';
    const message = (err as Error).message;
    if (/Profile '.*' not found/.test(message))
      throw configError(`TEMPORAL_PROFILE=${name}: no such profile in ${where}; name one of its [profile.<name>] tables or unset TEMPORAL_PROFILE`);
    throw configError(`${where}: cannot use it (${message.split('\n')[0]}); fix the TOML (keys: address, namespace, api_key, [profile.<name>.tls], grpc_meta)`);
  }
  const read = opts.file || Object.keys(profile).length > 0;
  return { profile, origin: read ? `profile ${name}${opts.file ? ` of ${opts.file}` : ''}` : undefined };
}
