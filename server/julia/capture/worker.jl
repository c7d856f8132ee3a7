# Capture worker, the fallback for sessions that cannot capture in process (capture/imaging.jl says why: another
# libjulia build, several threads, coverage or allocation tracking). Runs in `julia --output-o <unused> worker.jl
# <job.json>` (imaging-mode codegen: every Julia object the code uses goes through a relocatable global slot),
# replays the session's definitions (replay.jl: definitions only, never expressions, impure constants or
# packages' `__init__`), compiles the logged signatures with jl_create_native, lowers them with Julia's own passes
# and writes module.bc, plan.bin and capture.json into job.outDir, then _exits before Julia would write its image.
Base.reinit_stdio()   # stdio is not initialised in output mode
# Output mode skips Base.__init__: the load path (for `using SHA` below and stdlibs) and Sys.STDLIB/BINDIR.
Base.init_depot_path()
Base.init_load_path()
Sys.__init__()
# Everything of the worker lives in its own module: Main receives only the replayed definitions.
module CaptureWorker
using SHA: sha1
using Libdl
const HERE = @__DIR__
include(joinpath(HERE, "..", "internals", "julia-1.5.3.jl"))
include(joinpath(HERE, "..", "agent", "src", "json.jl"))
include(joinpath(HERE, "modules.jl"))
include(joinpath(HERE, "replay.jl"))
include(joinpath(HERE, "..", "testpause.jl"))

function main_worker(jobpath::String)
    t0 = time_ns()
    job = json_parse(read(jobpath, String))
    outdir = String(job["outDir"])
    mkpath(outdir)
    # Same package environment as the session, for `using` of stdlibs.
    empty!(LOAD_PATH)
    append!(LOAD_PATH, String.(get(job, "loadPath", Any["@", "@v#.#", "@stdlib"])))
    project = get(job, "project", nothing)
    project === nothing || (Base.ACTIVE_PROJECT[] = String(project))
    timing = Dict{String,Any}()
    t = time_ns()
    records, failed = replay(job["definitions"])
    timing["replayMs"] = ms(t)
    test_pause("worker-replayed")
    cand, skipped = resolve_all(String.(job["signatures"]), world_counter(), (s, w) -> resolve_signature(s, w; replayed = true))
    result = capture(records, cand, skipped, outdir, mis -> create_native(mis, codegen_params()), timing)
    result["replay"] = failed
    result["workerMs"] = (time_ns() - t0) / 1e6
    open(io -> json_write(io, result), joinpath(outdir, "capture.json"), "w")
end
end

status = try
    CaptureWorker.main_worker(ARGS[1])
    0
catch e
    print(stderr, "capture failed: ")
    showerror(stderr, e, catch_backtrace())
    println(stderr)
    1
end
flush(stdout); flush(stderr)
ccall(:_exit, Cvoid, (Cint,), status)   # never let Julia write its output image
