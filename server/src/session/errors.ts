// Errors the session reports to its callers. `kind` lets the server turn them into clear responses.
export type SessionErrorKind =
  | 'julia-not-found' // the executable is missing or cannot be run
  | 'start-failed' // Julia ran but the agent never came up
  | 'session-died' // the process exited while a request was pending
  | 'not-running' // a request needs a running session
  | 'agent-error'; // the agent answered a request with an error

export class SessionError extends Error {
  constructor(
    readonly kind: SessionErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}
