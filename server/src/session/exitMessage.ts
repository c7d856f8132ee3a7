// Words for how a Julia process ended, for SessionStatus.message and for rejected requests.
export interface ExitInfo {
  exitCode?: number;
  signal?: string;
}

const SIGNAL_HINTS: Record<string, string> = {
  SIGKILL: 'killed from outside, or by the system for lack of memory',
  SIGSEGV: 'a crash inside Julia',
  SIGABRT: 'Julia aborted',
  SIGBUS: 'a crash inside Julia',
};

export function describeExit(exit: ExitInfo, killReason?: string): string {
  if (killReason) return `The Julia session ended: ${killReason}.`;
  if (exit.signal) {
    const hint = SIGNAL_HINTS[exit.signal];
    return `Julia was killed by ${exit.signal}${hint ? ` (${hint})` : ''}.`;
  }
  if (exit.exitCode === 0) return 'Julia exited (code 0): the agent ended, e.g. `exit()` was called.';
  return `Julia exited unexpectedly with code ${exit.exitCode ?? 'unknown'}.`;
}
