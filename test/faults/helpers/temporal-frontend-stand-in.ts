import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import proto from '@temporalio/proto';

const ws = proto.temporal.api.workflowservice.v1;
const SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

function unary<Req, Res>(name: string, request: Codec<Req>, response: Codec<Res>) {
  return {
    path: `/${SERVICE}/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (message: Req) => Buffer.from(request.encode(message).finish()),
    requestDeserialize: (bytes: Buffer) => request.decode(bytes),
    responseSerialize: (message: Res) => Buffer.from(response.encode(message).finish()),
    responseDeserialize: (bytes: Buffer) => response.decode(bytes),
  } as const;
}

const definition = {
  GetSystemInfo: unary('GetSystemInfo', ws.GetSystemInfoRequest, ws.GetSystemInfoResponse),
  StartWorkflowExecution: unary('StartWorkflowExecution', ws.StartWorkflowExecutionRequest, ws.StartWorkflowExecutionResponse),
} satisfies ServiceDefinition;

/**
 * A Temporal frontend over real gRPC that does no work: `StartWorkflowExecution`
 * answers after `latencyMs` with a run id, or `ALREADY_EXISTS` (the client's
 * `WorkflowExecutionAlreadyStartedError`) for an id it started before, as
 * `REJECT_DUPLICATE` does. The gateway's own start path (its Temporal client,
 * payload encryption, gRPC) runs for real, at rates the dev server cannot
 * answer on two cores (~190 starts/s). Every other method is `UNIMPLEMENTED`.
 */
export class TemporalFrontendStandIn {
  /** Workflow ids started; kept as ids only, like a server's visibility. */
  readonly started = new Set<string>();
  duplicates = 0;
  private readonly server = new Server();
  private nextRun = 0;

  constructor(private readonly latencyMs = 5) {
    this.server.addService(definition, {
      GetSystemInfo: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<proto.temporal.api.workflowservice.v1.IGetSystemInfoResponse>) =>
        callback(null, { serverVersion: 'stand-in', capabilities: {} }),
      StartWorkflowExecution: (
        call: ServerUnaryCall<proto.temporal.api.workflowservice.v1.StartWorkflowExecutionRequest, unknown>,
        callback: sendUnaryData<proto.temporal.api.workflowservice.v1.IStartWorkflowExecutionResponse>,
      ) => {
        const workflowId = call.request.workflowId;
        setTimeout(() => {
          if (this.started.has(workflowId)) {
            this.duplicates += 1;
            callback({ code: status.ALREADY_EXISTS, details: `Workflow execution is already running. WorkflowId: ${workflowId}` });
            return;
          }
          this.started.add(workflowId);
          callback(null, { runId: `stand-in-run-${this.nextRun++}`, started: true });
        }, this.latencyMs);
      },
    });
  }

  /** Listens on a free loopback port; resolves to `host:port` for `TEMPORAL_ADDRESS`. */
  start(): Promise<string> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(`127.0.0.1:${port}`))),
    );
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

/** A {@link TemporalFrontendStandIn} in a child process of its own, so that its CPU is not the caller's. */
export interface StandInProcess {
  address: string;
  stop(): Promise<void>;
}

/** Starts a {@link TemporalFrontendStandIn} in a child process (./temporal-frontend-stand-in-main.ts). */
export async function startStandInProcess(latencyMs: number): Promise<StandInProcess> {
  const { fork } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const child = fork(fileURLToPath(new URL('./temporal-frontend-stand-in-main.ts', import.meta.url)), [String(latencyMs)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { address: string }) => resolve(message.address));
    child.once('exit', (code) => reject(new Error(`the Temporal stand-in exited (${code}) before listening`)));
  });
  return {
    address,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.disconnect();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
