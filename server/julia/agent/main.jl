# The agent that runs inside the user's Julia session: `julia ... main.jl <socket> [extension.jl ...]`.
# It connects to the unix socket the language server listens on and answers JSON-RPC 2.0 requests
# (Content-Length framing) as specified in docs/DESIGN.md "Agent protocol": initialize, eval, sessionLog, shutdown.
# stdout/stderr belong to the user's code (the server streams them); the agent never writes protocol data there.
#
# Extension points (for the native-cache glue and other additions; all in module JLCacheAgent):
# - `register_handler(name::String, f)`: adds a JSON-RPC method; `f(params::Dict{String,Any})` returns the result
#   (Dict{String,Any}/Vector{Any}/String/number/Bool/nothing) or throws `RPCError(code, msg)`. See rpc.jl.
# - `AFTER_STATEMENT_HOOKS`: functions `hook(hash::String, kind::String)` called, in order, after each statement
#   that evaluated without error, and also after a `using`/`import` statement that failed (packages may have
#   loaded partly). `hash`/`kind` are those of the eval result's `statements`. A failing hook is reported on
#   stderr and does not fail the eval. Hooks run inside the eval, so their cost shows in totalMs.
# - `DEFINITIONS`, `COMPILED`: the session log (see eval.jl, compilelog.jl); read-only for extensions.
# - Extension files given after the socket path are `include`d into JLCacheAgent before the first request is
#   read (an extension that fails to load is reported on stderr and skipped); they register handlers and hooks.
# Handlers run with SIGINT deferred (Base.disable_sigint); `eval` re-enables it only around the user's code.

Base.exit_on_sigint(false)      # a SIGINT from the server interrupts the eval; it must never kill the session

module JLCacheAgent

using Sockets
using Libdl

include(joinpath(@__DIR__, "..", "internals", "julia-1.5.3.jl"))
include("json.jl")
include("rpc.jl")
include("compilelog.jl")
include("display.jl")
include("statements.jl")
include("eval.jl")

const AGENT_DIR = @__DIR__
const AGENT_MODULE_PREFIX = string(@__MODULE__) * "."       # in compile-log signatures of our own methods
const AFTER_STATEMENT_HOOKS = Function[]
const COMPILE_LOG = open_compile_log()
const SUPPORTED_VERSION = v"1.5.3"
const SHUTDOWN = Ref(false)

function handle_initialize(::Dict{String,Any})
    supported = VERSION == SUPPORTED_VERSION
    features = split(llvm_host_cpu_features(), ',')
    identity = Dict{String,Any}(
        "cpuName" => Sys.CPU_NAME,
        "cpuFeatures" => join(sort!(filter!(!isempty, features)), ','),   # LLVM's order is a hash order
        "tlsOffset" => jl_tls_offset(),
        "libjulia" => realpath(Libdl.dlpath("libjulia")),
        "sysimage" => realpath(unsafe_string(Base.JLOptions().image_file)),
        "wordSize" => Sys.WORD_SIZE,
    )
    result = Dict{String,Any}("juliaVersion" => string(VERSION), "pid" => Int(getpid()), "supported" => supported,
                              "identity" => identity)
    supported || (result["reason"] = "the native cache needs Julia $SUPPORTED_VERSION, this is Julia $VERSION")
    return result
end

function handle_session_log(::Dict{String,Any})
    defs = Any[Dict{String,Any}("code" => d.code, "file" => d.file, "line" => d.line, "hash" => d.hash) for d in DEFINITIONS]
    compiled = Any[Dict{String,Any}("sig" => sig, "ms" => ms) for (sig, ms) in COMPILED]
    project = Base.active_project()
    return Dict{String,Any}("project" => project === nothing ? nothing : String(project),
                            "loadPath" => Any[String(p) for p in Base.load_path()],
                            "definitions" => defs, "compiled" => compiled)
end

handle_shutdown(::Dict{String,Any}) = (SHUTDOWN[] = true; Dict{String,Any}())

register_handler("initialize", handle_initialize)
register_handler("eval", handle_eval)
register_handler("sessionLog", handle_session_log)
register_handler("shutdown", handle_shutdown)

function load_extension(path::String)
    try
        Base.include(@__MODULE__, abspath(path))
    catch e
        e isa InterruptException && rethrow()
        print(stderr, "julia-compiled-cache: agent extension $path failed to load: ", error_text(e), "\n")
    end
end

function serve(sock::IO)
    while !SHUTDOWN[]
        bytes = try
            read_message(sock)
        catch e
            e isa InterruptException && continue             # SIGINT while idle: nothing to interrupt
            (e isa EOFError || e isa Base.IOError) && return  # the server went away
            e isa FramingError || rethrow()
            write_message(sock, rpc_error(nothing, PARSE_ERROR, sprint(showerror, e)))
            continue
        end
        try
            disable_sigint() do
                reply = handle_message(bytes)
                reply === nothing || write_message(sock, reply)
            end
        catch e
            # an interrupt that arrived after the reply (it was deferred), or the peer vanished mid-write
            e isa InterruptException && continue
            (e isa EOFError || e isa Base.IOError) && return
            print(stderr, "julia-compiled-cache: agent error: ", error_text(e), "\n")
        end
    end
end

function main(args::Vector{String})
    if isempty(args)
        print(stderr, "usage: julia main.jl <socket path> [extension.jl ...]\n")
        exit(2)
    end
    sock = try
        Sockets.connect(args[1])
    catch e
        print(stderr, "julia-compiled-cache: agent cannot connect to ", args[1], ": ", error_text(e), "\n")
        exit(1)
    end
    for ext in args[2:end]
        load_extension(ext)
    end
    serve(sock)
    flush_output()
    exit(0)
end

end # module JLCacheAgent

JLCacheAgent.main(ARGS)
