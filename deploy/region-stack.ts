/**
 * One plan Region's deployment: the worker (ECS Fargate, private subnets, least-privilege task role
 * from domain/iam.ts) and the recovery path (alarm + AWS Health rules → the receiver's Lambda
 * handler, which validates the event and signal-with-starts `recover`). No HTTP endpoint is exposed:
 * EventBridge invokes the Lambda through IAM. Temporal credentials come from Secrets Manager.
 */
import { CfnResource, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { alarmPattern, healthPattern } from '../domain/events-install.js';
import { policyFor } from '../domain/iam.js';
import type { Plan } from '../domain/plan.js';

export interface DeployOptions {
  /** The worker image (built from the repository's Dockerfile and pushed to a registry). */
  image: string;
  temporalAddress: string;
  temporalNamespace: string;
  /** Name of the Secrets Manager secret (in each Region) that holds the Temporal Cloud API key. */
  temporalApiKeySecret: string;
  taskQueuePrefix: string;
  /**
   * Workers per Region (2 keeps a worker through a task replacement). Any number is safe for the write quota: one
   * holds the Region's write lease and runs its AWS calls at writeQuotaShare, the others stand by and run workflows.
   */
  workerCount: number;
}

export interface RegionStackProps extends StackProps {
  plan: Plan;
  planText: string;
  region: string;
  options: DeployOptions;
  /** Directory with the bundled receiver handler (index.mjs). */
  receiverCodeDir: string;
}

/** Our patterns are EventBridge JSON (`detail-type`); CDK's EventPattern spells it `detailType`. */
function toCdkPattern(p: Record<string, unknown>): events.EventPattern {
  const { 'detail-type': detailType, ...rest } = p;
  return { ...rest, ...(detailType ? { detailType: detailType as string[] } : {}) } as events.EventPattern;
}

/** Where the worker container serves its Prometheus metrics. */
const WORKER_METRICS_PORT = 9464;
/** ECS sends SIGKILL this long after SIGTERM (Fargate allows at most 120 s). */
const WORKER_STOP_TIMEOUT_S = 120;

export class RegionStack extends Stack {
  constructor(scope: Construct, id: string, props: RegionStackProps) {
    super(scope, id, props);
    const { plan, region, options } = props;

    const key = new kms.Key(this, 'Key', {
      description: `secrets-dr ${plan.name} ${region}: logs and dead-letter queue`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${region}.amazonaws.com`));

    // Network: private subnets with one NAT for the AWS APIs and Temporal Cloud; nothing inbound.
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: key, removalPolicy: RemovalPolicy.RETAIN });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      ],
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
    });
    const egressOnly = new ec2.SecurityGroup(this, 'EgressOnly', {
      vpc,
      description: 'secrets-dr: HTTPS and Temporal out, nothing in',
      allowAllOutbound: false,
    });
    egressOnly.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (Secrets Manager, EventBridge, STS)');
    egressOnly.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(7233), 'Temporal frontend (gRPC)');

    const apiKey = secretsmanager.Secret.fromSecretNameV2(this, 'TemporalApiKey', options.temporalApiKeySecret);
    const temporalEnv = {
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_NAMESPACE: options.temporalNamespace,
      SECRETS_DR_TASK_QUEUE_PREFIX: options.taskQueuePrefix,
    };

    // ---- the worker: this Region's AWS calls (task queue <prefix>.<region>) and workflows
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const taskRole = new iam.Role(this, 'WorkerRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `secrets-dr worker (${plan.name}, ${region}): the actions of domain/iam.ts, nothing else`,
      inlinePolicies: { 'secrets-dr-worker': iam.PolicyDocument.fromJson(policyFor('worker', plan, { accountId: this.account, partition: this.partition })) },
    });
    const task = new ecs.FargateTaskDefinition(this, 'WorkerTask', {
      cpu: 512,
      memoryLimitMiB: 1024,
      taskRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    task.addVolume({ name: 'tmp' });
    const workerLogs = new logs.LogGroup(this, 'WorkerLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const container = task.addContainer('worker', {
      image: ecs.ContainerImage.fromRegistry(options.image),
      command: ['--regions', region],
      // JSON log lines (one object per line) for CloudWatch Logs Insights; Prometheus metrics on
      // :9464/metrics inside the task only (no ingress: the security group is egress-only), for a
      // collector sidecar to scrape (README "Production": what to alarm on).
      // The worker's own shutdown limit ends 10 s before ECS's SIGKILL (stopTimeout): running activities get half of it,
      // then are cancelled, and the worker logs what it leaves unfinished.
      environment: {
        ...temporalEnv,
        SECRETS_DR_LOG_LEVEL: 'INFO',
        SECRETS_DR_LOG_FORMAT: 'json',
        SECRETS_DR_METRICS_PORT: String(WORKER_METRICS_PORT),
        SECRETS_DR_SHUTDOWN_TIMEOUT_MS: String((WORKER_STOP_TIMEOUT_S - 10) * 1000),
      },
      portMappings: [{ containerPort: WORKER_METRICS_PORT, name: 'metrics' }],
      secrets: { TEMPORAL_API_KEY: ecs.Secret.fromSecretsManager(apiKey) },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: workerLogs }),
      readonlyRootFilesystem: true,
      user: '1000:1000',
      // The worker drains on SIGTERM within SECRETS_DR_SHUTDOWN_TIMEOUT_MS, set 10 s below this (Fargate's maximum).
      stopTimeout: Duration.seconds(WORKER_STOP_TIMEOUT_S),
      // An init process is PID 1 and forwards signals: Node as PID 1 ignores a SIGTERM that comes before the worker
      // installs its handler (while modules load), and ECS would SIGKILL it 120 s later.
      linuxParameters: new ecs.LinuxParameters(this, 'WorkerLinux', { initProcessEnabled: true }),
    });
    container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
    new ecs.FargateService(this, 'Worker', {
      cluster,
      taskDefinition: task,
      desiredCount: options.workerCount,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      assignPublicIp: false,
      securityGroups: [egressOnly],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });

    // ---- the recovery path: rules → the receiver's Lambda handler (IAM-invoked, no HTTP endpoint)
    const dlq = new sqs.Queue(this, 'RecoveryDeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const receiverRole = new iam.Role(this, 'ReceiverRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `secrets-dr receiver (${plan.name}, ${region}): its Temporal credentials, nothing else`,
      inlinePolicies: {
        'secrets-dr-receiver': iam.PolicyDocument.fromJson(policyFor('receiver', plan, { accountId: this.account, partition: this.partition })),
      },
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole')],
    });
    const receiverLogs = new logs.LogGroup(this, 'ReceiverLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const receiver = new lambda.Function(this, 'Receiver', {
      description: `secrets-dr receiver: validates alarm/Health events, then signal-with-starts recover (${plan.name})`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.X86_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(props.receiverCodeDir),
      role: receiverRole,
      memorySize: 256,
      timeout: Duration.seconds(30),
      reservedConcurrentExecutions: 5,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [egressOnly],
      deadLetterQueue: dlq,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: receiverLogs,
      environmentEncryption: key,
      environment: {
        ...temporalEnv,
        TEMPORAL_API_KEY_SECRET_ID: options.temporalApiKeySecret,
        SECRETS_DR_PLAN: props.planText,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    // cfn-lint W3005: CDK adds an explicit DependsOn on the role's policy next to the GetAtt of the
    // role; the redundant edge is CDK's own (it orders the inline policy), harmless, and not ours to drop.
    (receiver.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    const target = new targets.LambdaFunction(receiver, { deadLetterQueue: dlq, retryAttempts: 8, maxEventAge: Duration.hours(2) });
    if (plan.health.alarms.length > 0) {
      new events.Rule(this, 'AlarmRule', {
        description: `secrets-dr ${plan.name}: CloudWatch alarms that hint at a Secrets Manager outage`,
        eventPattern: toCdkPattern(alarmPattern(plan.health.alarms)),
        targets: [target],
      });
    }
    new events.Rule(this, 'HealthRule', {
      description: `secrets-dr ${plan.name}: AWS Health issues of Secrets Manager`,
      eventPattern: toCdkPattern(healthPattern()),
      targets: [target],
    });
  }
}
