# The agent that runs inside the user's Julia session: `julia ... main.jl <socket> [extension.jl ...]`.
# It connects to the unix socket the language server listens on and answers JSON-RPC 2.0 requests
# (Content-Length framing) as specified in docs/DESIGN.md "Agent protocol": initialize, eval, sessionLog, shutdown.
# stdout/stderr belong to the user's code (the server streams them); the agent never writes protocol data there.
#
# Extension points (for the native-cache glue and other additions; all in module JLCacheAgent):
# - `register_handler(name::String, f)`: adds a JSON-RPC method; `f(params::Dict{String,Any})` returns the result
#   (Dict{String,Any}/Vector{Any}/String/number/Bool/nothing) or throws `RPCError(code, msg)`. See src/rpc.jl.
# - `AFTER_STATEMENT_HOOKS`: functions `hook(hash::String, kind::String)` called, in order, after each statement
#   that evaluated without error, and also after a `using`/`import` statement that failed (packages may have
#   loaded partly). `hash`/`kind` are those of the eval result's `statements`. A failing hook is reported on
#   stderr and does not fail the eval. Hooks run inside the eval, so their cost shows in totalMs.
# - `WARMUP_HOOKS`: functions `hook()` run once at start (the `warmUp` request, before the session reports ready), to
#   compile the extension's request paths (see src/warmup.jl). They must have no effect on the session.
# - `FRAME_RESOLVERS`: functions `resolve(ip::UInt64)` returning a `StackFrame` or `nothing`, asked for each frame
#   of an error's stack that Julia could only see as C code (code its JIT did not emit, e.g. cached code); the
#   first answer is kept, unanswered C frames are dropped as `stacktrace(bt)` drops them.
# - `DEFINITIONS`, `COMPILED`: the session log (see src/eval.jl, src/compilelog.jl); read-only for extensions.
# - Extension files given after the socket path are `include`d into JLCacheAgent before the first request is
#   read (an extension that fails to load is reported on stderr and skipped); they register handlers and hooks.
# Handlers run with SIGINT deferred (Base.disable_sigint); `eval` re-enables it only around the user's code.

Base.exit_on_sigint(false)      # a SIGINT from the server interrupts the eval; it must never kill the session

# The agent's code lives in the package JLCacheAgent (src/), which Julia precompiles into the user's depot on
# first use (the first session prints "Precompiling JLCacheAgent" once and takes a few seconds longer); later
# sessions load the cached image instead of parsing, lowering and inferring the agent again: about half the
# agent's start-up cost. The package is found through this directory's Project.toml, put on LOAD_PATH only while
# it loads, so the user's environment is unchanged.
const JLCacheAgent = let dir = @__DIR__
    pushfirst!(LOAD_PATH, dir)
    try
        Base.require(Base.PkgId(Base.UUID("5a1b7c3e-2d4f-4e8a-9b6c-0f1e2d3c4b5a"), "JLCacheAgent"))
    finally
        k = findfirst(isequal(dir), LOAD_PATH)
        k === nothing || deleteat!(LOAD_PATH, k)
    end
end

# The user's code sees the ARGS of a plain session (empty), not the socket and extension paths: test suites and
# scripts read ARGS (e.g. `tests = ARGS` when non-empty).
let args = copy(ARGS)
    empty!(ARGS)
    JLCacheAgent.main(args)
end
