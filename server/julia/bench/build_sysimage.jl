# Benchmark only (`npm run bench -- --compare`): the body of a custom system image, built the way PackageCompiler
# does it. Runs inside `julia --startup-file=no --output-o sys.o -J <default sysimage> build_sysimage.jl FILE.jl
# STATEMENTS`: defines the workload's functions in Main (the file only defines functions and a `main`; its `using`s
# load the stdlibs it needs), then replays the precompile statements `--trace-compile` recorded in a cold session.
# A statement that no longer parses or names something this image lacks is skipped, as PackageCompiler does.
# --output-o skips Base.__init__: Sys.BINDIR/STDLIB, the depot and the load path (for the workload's `using`s) are
# set up here, as PackageCompiler does.
Base.reinit_stdio()
Sys.__init__()
Base.init_depot_path()
Base.init_load_path()
include(ARGS[1])
let replayed = 0, skipped = 0
    for line in eachline(ARGS[2])
        try
            Base.eval(Main, Meta.parse(line))
            replayed += 1
        catch
            skipped += 1
        end
    end
    println(stderr, "precompile statements: $replayed replayed, $skipped skipped")
end
