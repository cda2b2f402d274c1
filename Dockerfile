# secrets-dr worker image. Two stages: build the npm package from this tree (tsc + the prebuilt
# workflow bundle), then install only that package, as a user would, on a slim Node LTS image.
#   docker build -t secrets-dr .
#   docker run --rm -e TEMPORAL_ADDRESS=... -e AWS_REGION=... secrets-dr --regions us-east-1,us-west-2
# The worker drains on SIGTERM (it finishes running activities, then exits 0): give the task a stop
# timeout above the longest activity (ECS stopTimeout 120 s; Kubernetes terminationGracePeriodSeconds).

FROM node:24.11.1-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md ./
COPY bin ./bin
COPY scripts ./scripts
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY cli ./cli
COPY dashboard ./dashboard
COPY lab ./lab
COPY deploy ./deploy
COPY bench ./bench
RUN npm run build \
 && mkdir /pkg \
 && npm pack --ignore-scripts --pack-destination /pkg

FROM node:24.11.1-bookworm-slim
ENV NODE_ENV=production
COPY --from=build /pkg /pkg
RUN npm install --global --no-audit --no-fund /pkg/secrets-dr-*.tgz \
 && rm -rf /pkg \
 && npm cache clean --force
# The image's unprivileged `node` user (uid 1000), by number so that runtimes can check it is not root.
USER 1000:1000
WORKDIR /home/node
# The worker installs its own SIGTERM/SIGINT handlers, so it shuts down gracefully even as PID 1.
STOPSIGNAL SIGTERM
ENTRYPOINT ["secrets-dr", "worker"]
