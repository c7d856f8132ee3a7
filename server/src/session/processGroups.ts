// Every Julia process group this server started, so none outlives it: on exit or on a termination signal the
// groups are killed. (If this process is SIGKILLed, the agent still exits when its socket closes.)
const groups = new Set<number>();
let installed = false;

export function trackProcessGroup(pid: number): void {
  groups.add(pid);
  installHandlers();
}

export function untrackProcessGroup(pid: number): void {
  groups.delete(pid);
}

/** Sends `signal` to the whole group led by `pid` (Julia and anything the user's code spawned). */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function killAll(): void {
  for (const pid of groups) signalGroup(pid, 'SIGKILL');
  groups.clear();
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[signal]);
    });
  }
}
