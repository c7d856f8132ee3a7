# Capture worker: runs in `julia --output-o <unused> worker.jl <job.json>` (imaging-mode codegen: every Julia
# object the code uses goes through a relocatable global slot). Replays the session's definitions, compiles the
# logged signatures with jl_create_native, lowers them with Julia's own passes and writes module.bc, plan.bin and
# capture.json into job.outDir, then _exits before Julia would write its system image. See DESIGN.md.
# `worker.jl --serve` is the same worker started ahead of time: it warms up (warmup.jl), prints `ready` on stdout,
# then reads one job path from stdin and runs it as above (an empty stdin, the server gone, exits quietly).
Base.reinit_stdio()   # stdio is not initialised in output mode
# Everything of the worker lives in its own module: Main receives only the replayed definitions.
module CaptureWorker
const T_START = time_ns()
const HERE = @__DIR__
include(joinpath(HERE, "..", "internals", "julia-1.5.3.jl"))
include(joinpath(HERE, "..", "agent", "src", "json.jl"))
include(joinpath(HERE, "llvm.jl"))
include(joinpath(HERE, "replay.jl"))
include(joinpath(HERE, "signatures.jl"))
include(joinpath(HERE, "..", "loader", "planformat.jl"))
include(joinpath(HERE, "describe.jl"))
include(joinpath(HERE, "..", "loader", "pkgdigest.jl"))
include(joinpath(HERE, "requires.jl"))
include(joinpath(HERE, "capture.jl"))
include(joinpath(HERE, "warmup.jl"))

function main_worker(jobpath::String, t0::UInt64 = T_START)
    job = json_parse(read(jobpath, String))
    outdir = String(job["outDir"])
    mkpath(outdir)
    # Same package environment as the session, for `using` of stdlibs and local path packages.
    Base.init_depot_path()
    Base.init_load_path()
    Sys.__init__()            # Sys.STDLIB / BINDIR: output mode skips Base.__init__
    empty!(LOAD_PATH)
    append!(LOAD_PATH, String.(get(job, "loadPath", Any["@", "@v#.#", "@stdlib"])))
    project = get(job, "project", nothing)
    project === nothing || (Base.ACTIVE_PROJECT[] = String(project))
    result = capture(job["definitions"], String.(job["signatures"]), outdir)
    result["workerMs"] = (time_ns() - t0) / 1e6
    open(io -> json_write(io, result), joinpath(outdir, "capture.json"), "w")
end

"Warm up, say so, then wait for one job path on stdin. False when stdin closed without a job."
function serve()
    warm_up()
    println(stdout, "ready")
    flush(stdout)
    jobpath = readline(stdin)
    isempty(jobpath) && return false
    main_worker(jobpath, time_ns())
    return true
end
end

status = try
    if ARGS[1] == "--serve"
        CaptureWorker.serve()
    else
        CaptureWorker.main_worker(ARGS[1])
    end
    0
catch e
    print(stderr, "capture failed: ")
    showerror(stderr, e, catch_backtrace())
    println(stderr)
    1
end
flush(stdout); flush(stderr)
ccall(:_exit, Cvoid, (Cint,), status)   # never let Julia write its output image
