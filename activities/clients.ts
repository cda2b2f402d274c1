/**
 * Narrow views of the AWS clients: only the operations secrets-dr uses, so activities can be
 * built over the real SDK client (worker/) or anything else that speaks the same shapes.
 */
import type {
  DescribeSecretCommandInput,
  DescribeSecretCommandOutput,
  ListSecretsCommandInput,
  ListSecretsCommandOutput,
} from '@aws-sdk/client-secrets-manager';

export interface SecretsManagerApi {
  listSecrets(input: ListSecretsCommandInput): Promise<ListSecretsCommandOutput>;
  describeSecret(input: DescribeSecretCommandInput): Promise<DescribeSecretCommandOutput>;
}

/** One Region's clients. */
export interface RegionClients {
  region: string;
  secretsManager: SecretsManagerApi;
}
