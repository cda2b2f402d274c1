/**
 * Temporal environment configuration profiles beside the environment variables: for each setting,
 * the variable wins over the profile, the profile over the built-in default; a named file or
 * profile that is not there is a clear error naming the variable.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnv, temporalOptions } from '../../worker/config.js';

const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-profile-'));
const file = join(dir, 'temporal.toml');
writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nprofile-ca\n-----END CERTIFICATE-----\n');
writeFileSync(
  file,
  [
    '[profile.default]',
    'address = "default-host:7233"',
    '',
    '[profile.prod]',
    'address = "prod.a1b2c.tmprl.cloud:7233"',
    'namespace = "prod.a1b2c"',
    'api_key = "profile-key"',
    '[profile.prod.tls]',
    `server_ca_cert_path = "${join(dir, 'ca.pem')}"`,
    'server_name = "prod.example"',
    '[profile.prod.grpc_meta]',
    'x-team = "payments"',
    '',
    '[profile.plain]',
    'address = "plain:7233"',
    '[profile.plain.tls]',
    'disabled = true',
  ].join('\n'),
);
// HOME points at an empty directory, so no developer's own ~/.config/temporalio file takes part.
const base = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'none') };
const options = (env: Record<string, string>) => {
  const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
  Object.assign(process.env, base);
  try {
    return temporalOptions(loadEnv(env));
  } finally {
    Object.assign(process.env, saved);
  }
};

describe('Temporal config profiles (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE) beside the environment variables', () => {
  it('without a file or variables: localhost:7233, namespace default, no TLS', () => {
    expect(options({})).toEqual({ address: 'localhost:7233', namespace: 'default', apiKey: undefined, tls: false });
  });

  it('the default profile of the named file is used when TEMPORAL_PROFILE is unset', () => {
    expect(options({ TEMPORAL_CONFIG_FILE: file })).toMatchObject({
      address: 'default-host:7233',
      namespace: 'default',
      tls: false,
      origin: `profile default of ${file}`,
    });
  });

  it('a named profile gives address, namespace, API key (TLS on), CA, server name and gRPC metadata', () => {
    const o = options({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    expect(o).toMatchObject({ address: 'prod.a1b2c.tmprl.cloud:7233', namespace: 'prod.a1b2c', apiKey: 'profile-key', metadata: { 'x-team': 'payments' } });
    expect(o.tls).toMatchObject({ serverNameOverride: 'prod.example' });
    expect(String((o.tls as { serverRootCACertificate: Buffer }).serverRootCACertificate)).toContain('profile-ca');
  });

  it('each environment variable wins over the profile, setting by setting', () => {
    const o = options({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_ADDRESS: 'env-host:7233',
      TEMPORAL_API_KEY: 'env-key',
      TEMPORAL_TLS_SERVER_NAME: 'env.example',
    });
    expect(o).toMatchObject({ address: 'env-host:7233', namespace: 'prod.a1b2c', apiKey: 'env-key' });
    expect(o.tls).toMatchObject({ serverNameOverride: 'env.example' });
    expect(options({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_TLS: 'false' }).tls).toBe(false);
  });

  it("a profile's tls.disabled turns TLS off unless TEMPORAL_TLS says otherwise", () => {
    expect(options({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'plain' }).tls).toBe(false);
    expect(options({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'plain', TEMPORAL_TLS: 'true' }).tls).toEqual({});
  });

  it('a missing file, a missing profile and a malformed file are errors naming the variable and what to do', () => {
    expect(() => options({ TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') })).toThrow(/TEMPORAL_CONFIG_FILE=.*nope\.toml: no such file/);
    expect(() => options({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' })).toThrow(
      /TEMPORAL_PROFILE=staging: no such profile in TEMPORAL_CONFIG_FILE=/,
    );
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, '[profile.default]\nadress = "typo:7233"\n');
    expect(() => options({ TEMPORAL_CONFIG_FILE: bad })).toThrow(/TEMPORAL_CONFIG_FILE=.*bad\.toml: cannot use it \(.*adress/);
  });

  it('the default file ($XDG_CONFIG_HOME/temporalio/temporal.toml) is read when present', () => {
    const xdg = mkdtempSync(join(tmpdir(), 'secrets-dr-xdg-'));
    mkdirSync(join(xdg, 'temporalio'));
    writeFileSync(join(xdg, 'temporalio', 'temporal.toml'), '[profile.default]\nnamespace = "from-default-file"\n');
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = xdg;
    try {
      expect(temporalOptions(loadEnv({})).namespace).toBe('from-default-file');
    } finally {
      process.env.XDG_CONFIG_HOME = saved;
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
    }
  });
});
