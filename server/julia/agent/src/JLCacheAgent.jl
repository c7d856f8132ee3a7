# The agent package: everything the agent does, loaded by main.jl. See main.jl for the extension points.
module JLCacheAgent

# Low optimization for the agent's own methods: LLVM time at session start matters more than their speed.
Base.Experimental.@optlevel 1

using Sockets
using Libdl

using SHA: sha256

const INTERNALS = joinpath(@__DIR__, "..", "..", "internals")
const CAPTURE = joinpath(@__DIR__, "..", "..", "capture")
include(joinpath(INTERNALS, "julia-1.5.3.jl"))
include(joinpath(INTERNALS, "verified-builds.jl"))
include("json.jl")
include("rpc.jl")
include("compilelog.jl")
include("display.jl")
include("statements.jl")
# In-session capture (Save Compiled Work): precompiled with the agent, so a save pays no inference for it.
include(joinpath(CAPTURE, "modules.jl"))
include(joinpath(CAPTURE, "imaging.jl"))
include(joinpath(CAPTURE, "inprocess.jl"))
include("statementlog.jl")
include("eval.jl")
include("warmup.jl")

const AGENT_DIR = @__DIR__
const AGENT_MODULE_PREFIX = string(@__MODULE__) * "."       # in compile-log signatures of our own methods
const AFTER_STATEMENT_HOOKS = Function[]
const FRAME_RESOLVERS = Function[]       # see main.jl
const COMPILE_LOG = Ref{CompileLog}()     # opened by main(), at run time
const SUPPORTED_VERSION = v"1.5.3"
const SHUTDOWN = Ref(false)

# Answered before the warm-up (`warmUp`, warmup.jl): the server opens the cache for this identity while the agent warms up.
function handle_initialize(::Dict{String,Any})
    supported = VERSION == SUPPORTED_VERSION
    identity = Dict{String,Any}(
        "cpuName" => Sys.CPU_NAME,
        # LLVM's StringMap order: fixed for a given libLLVM and CPU (sorting it would cost 40 ms of compile)
        "cpuFeatures" => llvm_host_cpu_features(),
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
    first_runs = Any[Dict{String,Any}("hash" => h, "ms" => ms, "methodsCompiled" => n) for (h, (ms, n)) in FIRST_RUNS]
    included = Any[Dict{String,Any}("file" => f, "module" => m) for (f, m) in INCLUDED_INTO]
    project = Base.active_project()
    return Dict{String,Any}("project" => project === nothing ? nothing : String(project),
                            "loadPath" => Any[String(p) for p in Base.load_path()],
                            "definitions" => defs, "compiled" => compiled, "firstRuns" => first_runs,
                            "included" => included)
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
    COMPILE_LOG[] = open_compile_log()
    push!(Base.include_callbacks, note_include)
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

# Inference results for these are saved in the package image, so a session only pays LLVM code generation.
precompile(main, (Vector{String},))
precompile(serve, (Sockets.PipeEndpoint,))
precompile(read_message, (Sockets.PipeEndpoint,))
precompile(write_message, (Sockets.PipeEndpoint, String))
precompile(handle_message, (Vector{UInt8},))
precompile(handle_initialize, (Dict{String,Any},))
precompile(handle_eval, (Dict{String,Any},))
precompile(evaluate, (String, String, Int, Module, Bool))
precompile(warm_up, ())
precompile(handle_session_log, (Dict{String,Any},))
precompile(handle_shutdown, (Dict{String,Any},))
precompile(open_compile_log, ())
precompile(drain_compile_log!, (CompileLog,))
precompile(split_statements, (String, String, Int, String))
precompile(display_text, (Any,))
precompile(error_text, (Any,))
precompile(json_parse, (Vector{UInt8},))
precompile(json_string, (Any,))
precompile(handle_capture, (Dict{String,Any},))
precompile(user_frames, (Vector{Union{Ptr{Nothing}, Base.InterpreterIP}},))

end # module JLCacheAgent
