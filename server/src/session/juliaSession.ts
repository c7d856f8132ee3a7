// One Julia process running the agent: start, evaluate, interrupt, stop/restart, and crash detection.
// The agent talks JSON-RPC over a private unix socket; the process's stdout/stderr belong to the user and are
// streamed as `output` events. State changes are `status` events (the server turns them into notifications).
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { ResultPromise } from 'execa';
import { ResponseError, type MessageConnection } from 'vscode-jsonrpc/node';
import type { CacheStatus, EvaluateParams, OutputParams, SessionState, SessionStatus } from '../../../shared/src/protocol.ts';
import { loadExeca } from '../util/execa.ts';
import { agentScript, defaultAgentExtensions, libunwindDir } from '../util/repoRoot.ts';
import { juliaLaunch, type JuliaLaunch, type LaunchSettings } from './juliaLaunch.ts';
import { settlesWithin, sleep } from '../util/timeout.ts';
import { AgentSocket } from './agentSocket.ts';
import { toSessionEvalResult, type AgentEvalResult, type AgentInfo, type AgentRequests, type SessionEvalResult } from './agentProtocol.ts';
import { SessionError } from './errors.ts';
import { describeExit, type ExitInfo } from './exitMessage.ts';
import { probeJuliaVersion } from './juliaProbe.ts';
import { OutputThrottle } from './outputThrottle.ts';
import { signalGroup, trackProcessGroup, untrackProcessGroup } from './processGroups.ts';

export interface SessionOptions extends LaunchSettings {
  cwd?: string;
  /** How long Julia may take to start and connect. */
  startTimeoutMs?: number;
  /** Output rate cap per second (see OutputThrottle). */
  maxOutputBytesPerSecond?: number;
  /** Agent entry script; defaults to server/julia/agent/main.jl of this checkout. */
  agentPath?: string;
  /** Files the agent includes as extensions (the cache loader's handlers); default: the loader's, when built. */
  agentExtensions?: string[];
}

export interface SessionEvents {
  status: [SessionStatus];
  output: [OutputParams];
  /**
   * The agent answered `initialize` (agentInfo is set) and is warming up: the start has ~1 s to go. The cache opens and
   * lists its store meanwhile (cache/loadAhead.ts), so the session does not wait for that after its start.
   */
  identified: [AgentInfo];
}

/** One running Julia process and what belongs to it; replaced as a whole on restart. */
interface Running {
  proc: ResultPromise<{ stdin: 'ignore'; buffer: false; reject: false; detached: true; cleanup: false }>;
  pid: number;
  socket: AgentSocket;
  conn?: MessageConnection;
  /** Rejects with a 'session-died' error when the process exits without being asked to. */
  death: Promise<never>;
  exited: Promise<void>;
  stopping: boolean;
  stderrTail: string;
  /** Why we killed it ourselves, if we did (e.g. the agent closed its socket). */
  killReason?: string;
}

const SHUTDOWN_GRACE_MS = 2000;
const TERM_GRACE_MS = 2000;
/** Julia 1.5 forces an InterruptException out of code without safepoints only after a quick burst of SIGINTs. */
const FORCE_INTERRUPT_AFTER_MS = 1000;
const FORCE_INTERRUPT_SPACING_MS = 100;
const FORCE_INTERRUPT_SIGNALS = 8;
const STDERR_TAIL_CHARS = 2000;

export class JuliaSession extends EventEmitter<SessionEvents> {
  private state: SessionState = 'stopped';
  private message: string | undefined;
  private juliaVersion: string | undefined;
  private cache: CacheStatus = { state: 'none', methods: 0, bytes: 0 };
  private running: Running | undefined;
  private starting: Promise<SessionStatus> | undefined;
  private info: AgentInfo | undefined;
  private readonly throttle: OutputThrottle;
  private evalQueue: Promise<unknown> = Promise.resolve();
  private queuedEvals = 0;
  private evalSeq = 0;
  private interruptTimer: NodeJS.Timeout | undefined;

  constructor(private options: SessionOptions = {}) {
    super();
    this.throttle = new OutputThrottle({
      send: (chunk) => this.emit('output', chunk),
      maxBytesPerSecond: options.maxOutputBytesPerSecond,
    });
  }

  status(): SessionStatus {
    const status: SessionStatus = { state: this.state, cache: { ...this.cache } };
    if (this.juliaVersion) status.juliaVersion = this.juliaVersion;
    if (this.running && this.state !== 'dead') status.pid = this.running.pid;
    if (this.message) status.message = this.message;
    return status;
  }

  /** What the agent reported at start (identity for the cache); set from `identified` on, undefined when stopped. */
  get agentInfo(): AgentInfo | undefined {
    return this.info;
  }

  /** Another Julia binary or arguments for the next start (a settings change; the caller restarts). */
  reconfigure(launch: Pick<SessionOptions, 'juliaPath' | 'juliaArgs'>): void {
    this.options = { ...this.options, ...launch };
  }

  /** The Julia this session runs (or will run at its next start): executable, options and environment. */
  get launch(): JuliaLaunch {
    return juliaLaunch(this.options);
  }

  /** A new, separate session on the same Julia binary, arguments and environment (not started). */
  sibling(): JuliaSession {
    const { juliaPath, juliaArgs, env, project } = this.options;
    return new JuliaSession({ juliaPath, juliaArgs, env, project });
  }

  /** Written by the cache service only (cache/cacheStatus.ts decides what it says); clients see it in the status. */
  setCacheStatus(cache: CacheStatus): void {
    this.cache = { ...cache };
    this.emitStatus();
  }

  /** Starts Julia and the agent; resolves when the agent answered `initialize`. Idempotent while running. */
  start(): Promise<SessionStatus> {
    if (this.starting) return this.starting;
    if (this.running && (this.state === 'idle' || this.state === 'busy')) return Promise.resolve(this.status());
    this.starting = this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  async stop(): Promise<SessionStatus> {
    await this.starting?.catch(() => {});
    const run = this.running;
    if (run) await this.terminate(run);
    this.running = undefined;
    this.info = undefined;
    this.message = undefined;
    this.setState('stopped');
    return this.status();
  }

  async restart(): Promise<SessionStatus> {
    await this.stop();
    return this.start();
  }

  /**
   * Interrupts the running evaluation: one SIGINT, and if the evaluation is still running a second later
   * (a loop without safepoints), a short burst that makes Julia force the InterruptException.
   * Returns false when nothing was running.
   */
  interrupt(): boolean {
    const run = this.running;
    if (!run || this.state !== 'busy') return false;
    const seq = this.evalSeq;
    try {
      process.kill(run.pid, 'SIGINT');
    } catch {
      return false; // it is exiting; its exit is reported separately
    }
    clearTimeout(this.interruptTimer);
    const force = (left: number) => {
      if (this.evalSeq !== seq || this.state !== 'busy' || this.running !== run || left === 0) return;
      try {
        process.kill(run.pid, 'SIGINT');
      } catch {
        return; // already gone
      }
      this.interruptTimer = setTimeout(() => force(left - 1), FORCE_INTERRUPT_SPACING_MS);
    };
    this.interruptTimer = setTimeout(() => force(FORCE_INTERRUPT_SIGNALS), FORCE_INTERRUPT_AFTER_MS);
    return true;
  }

  /** Evaluates code in Main; evaluations run one at a time in the order they were asked for. */
  evaluate(params: EvaluateParams): Promise<SessionEvalResult> {
    this.queuedEvals++;
    if (this.state === 'idle') this.setState('busy');
    const result = this.evalQueue.then(() => this.runEval(params));
    this.evalQueue = result.catch(() => {});
    return result.finally(() => {
      this.queuedEvals--;
      if (this.queuedEvals === 0 && this.state === 'busy') this.setState('idle');
    });
  }

  /** Sends an agent request (agentProtocol.ts AgentRequests); rejects with a SessionError. */
  async request<M extends keyof AgentRequests>(method: M, params: AgentRequests[M][0]): Promise<AgentRequests[M][1]> {
    return this.send<AgentRequests[M][1]>(this.requireRunning(), method, params);
  }

  private async runEval(params: EvaluateParams): Promise<SessionEvalResult> {
    const run = this.requireRunning();
    if (this.state === 'idle') this.setState('busy');
    this.evalSeq++;
    try {
      const raw = await this.send<AgentEvalResult>(run, 'eval', {
        code: params.code,
        file: params.file ?? 'REPL',
        line: params.line ?? 1,
      });
      // The agent flushed stdout/stderr before answering, but the pipe and the socket are read independently:
      // give the pipe a moment so output is reported before the result.
      await sleep(10);
      this.throttle.flush();
      return toSessionEvalResult(raw);
    } finally {
      clearTimeout(this.interruptTimer);
    }
  }

  private requireRunning(): Running {
    if (this.state === 'dead') throw new SessionError('session-died', this.message ?? 'The Julia session died.');
    if (!this.running?.conn || this.state === 'starting') {
      throw new SessionError('not-running', 'No Julia session is running: start one first.');
    }
    return this.running;
  }

  private async send<R>(run: Running, method: string, params: object): Promise<R> {
    try {
      return await Promise.race([run.conn!.sendRequest<R>(method, params), run.death]);
    } catch (error) {
      if (error instanceof SessionError) throw error;
      // A request can also fail because the socket closed a moment before the exit was noticed.
      const exitedSoon = await settlesWithin(run.exited, 1000);
      if (exitedSoon && !run.stopping) throw new SessionError('session-died', this.message ?? 'The Julia session died.');
      const message = error instanceof Error ? error.message : String(error);
      throw new SessionError(error instanceof ResponseError ? 'agent-error' : 'session-died', `agent ${method}: ${message}`);
    }
  }

  private async doStart(): Promise<SessionStatus> {
    if (this.running) await this.stop();
    this.message = undefined;
    this.info = undefined;
    this.setState('starting');
    try {
      const launch = this.launch;
      this.warnIfNoLibunwind();
      this.juliaVersion = await probeJuliaVersion(launch.exe, launch.env);
      const run = await this.spawn(launch);
      // Both requests at once: the agent answers `initialize` before its warm-up, which `warmUp` then runs (~1 s).
      const initialized = this.send<AgentInfo>(run, 'initialize', {}).then((info) => {
        this.info = info;
        this.emit('identified', info);
      });
      await Promise.all([initialized, this.send(run, 'warmUp', {})]);
      this.setState('idle');
      return this.status();
    } catch (error) {
      const run = this.running;
      this.info = undefined;
      const message = error instanceof Error ? error.message : String(error);
      if (run) {
        run.stopping = true; // its exit is part of this failure, not a separate crash
        await this.terminate(run);
      }
      this.running = undefined;
      this.message = message;
      this.setState('dead');
      throw error instanceof SessionError ? error : new SessionError('start-failed', message);
    }
  }

  private warnIfNoLibunwind(): void {
    const unwind = libunwindDir();
    if (existsSync(unwind)) return;
    this.emit('output', {
      stream: 'stderr',
      text: `warning: ${unwind} is missing (run \`npm run setup\`): Julia 1.5.3 crashes on exceptions without it\n`,
    });
  }

  private async spawn(launch: JuliaLaunch): Promise<Running> {
    const socket = await AgentSocket.listen();
    const args = [...launch.options, this.options.agentPath ?? agentScript(), socket.path];
    args.push(...(this.options.agentExtensions ?? defaultAgentExtensions()));
    const { execa } = await loadExeca();
    const proc = execa(launch.exe, args, {
      env: launch.env,
      extendEnv: false,
      cwd: this.options.cwd,
      stdin: 'ignore',
      buffer: false,
      reject: false,
      detached: true, // its own process group, so a kill reaches whatever the user's code spawned too
      cleanup: false, // processGroups.ts does it, for the whole group
    });
    if (proc.pid === undefined) {
      socket.dispose();
      const result = await proc;
      throw new SessionError('julia-not-found', `cannot start ${launch.exe}: ${result.shortMessage ?? 'spawn failed'}`);
    }
    const pid = proc.pid;
    trackProcessGroup(pid);
    let rejectDeath!: (error: SessionError) => void;
    const death = new Promise<never>((_, reject) => (rejectDeath = reject));
    death.catch(() => {});
    const run: Running = { proc, pid, socket, death, exited: proc.then(() => {}), stopping: false, stderrTail: '' };
    this.running = run;
    this.pipeOutput(run);
    proc.then((result) => this.onExit(run, result, rejectDeath));

    const startTimeout = this.options.startTimeoutMs ?? 60_000;
    try {
      run.conn = await socket.accept(startTimeout, death);
    } catch (error) {
      // A death message already carries Julia's last stderr lines.
      const why = error instanceof SessionError ? error.message : `${error instanceof Error ? error.message : error}${tail(run)}`;
      throw new SessionError('start-failed', `Julia did not start the agent: ${why}`);
    }
    run.conn.onClose(async () => {
      // Usually the process is exiting and its exit explains why; a live process without its agent is useless.
      if (run.stopping || (await settlesWithin(run.exited, 1000)) || run.stopping) return;
      run.killReason = 'the agent closed its connection';
      signalGroup(run.pid, 'SIGKILL');
    });
    run.conn.listen();
    return run;
  }

  private pipeOutput(run: Running): void {
    run.proc.stdout?.setEncoding('utf8');
    run.proc.stderr?.setEncoding('utf8');
    run.proc.stdout?.on('data', (text: string) => this.throttle.push('stdout', text));
    run.proc.stderr?.on('data', (text: string) => {
      run.stderrTail = (run.stderrTail + text).slice(-STDERR_TAIL_CHARS);
      this.throttle.push('stderr', text);
    });
  }

  private onExit(run: Running, result: ExitInfo, rejectDeath: (error: SessionError) => void): void {
    untrackProcessGroup(run.pid);
    signalGroup(run.pid, 'SIGKILL'); // whatever the user's code spawned must not outlive the session
    run.conn?.dispose();
    run.socket.dispose();
    this.throttle.dispose();
    const message = describeExit(result, run.killReason) + tail(run);
    rejectDeath(new SessionError('session-died', message));
    // During start-up the failure is reported by doStart, which is waiting on `death`.
    if (run.stopping || this.running !== run || this.state === 'starting') return;
    this.running = undefined;
    this.info = undefined;
    clearTimeout(this.interruptTimer);
    this.message = `${message}\nRestart the session to continue.`;
    this.setState('dead');
  }

  /** shutdown request, then SIGTERM, then SIGKILL to the whole group; resolves when the process is gone. */
  private async terminate(run: Running): Promise<void> {
    run.stopping = true;
    run.killReason ??= 'it was stopped or restarted';
    const gone = (ms: number) => settlesWithin(run.exited, ms);
    if (run.conn && this.state === 'idle') {
      await settlesWithin(run.conn.sendRequest('shutdown', {}), SHUTDOWN_GRACE_MS);
      if (await gone(SHUTDOWN_GRACE_MS)) return;
    }
    signalGroup(run.pid, 'SIGTERM');
    if (await gone(TERM_GRACE_MS)) return;
    signalGroup(run.pid, 'SIGKILL');
    await run.exited;
  }

  private setState(state: SessionState): void {
    this.state = state;
    this.emitStatus();
  }

  private emitStatus(): void {
    this.emit('status', this.status());
  }
}

function tail(run: Running): string {
  const lines = run.stderrTail.trim().split('\n').slice(-8).join('\n');
  return lines ? `\nJulia's last output on stderr:\n${lines}` : '';
}
