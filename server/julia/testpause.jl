# Test-only stop points for the Julia helper processes (loader/prove.jl, capture/worker.jl), the counterpart of
# server/src/cache/testPause.ts. With JLC_TEST_PAUSE_AT=<point> in its environment, a process that reaches that
# step says "paused <point>" on stderr and blocks until it is killed, so a test stops it at a known step instead of
# racing a timer against it. These processes' stderr goes to the server, not the test: with
# JLC_TEST_PAUSE_REPORT=<file> the process also appends "paused <point> <pid>" there, and stops at a point only
# once per report file (the test's next attempt runs through). Without the variables, which is always the case
# outside tests, test_pause compares one string.
#   prove-linked     prove.jl: the entry linked and installed, the GC not yet run
#   worker-replayed  worker.jl: the session's definitions replayed, nothing compiled yet
function test_pause(point::String)
    get(ENV, "JLC_TEST_PAUSE_AT", "") == point || return
    report = get(ENV, "JLC_TEST_PAUSE_REPORT", "")
    if !isempty(report)
        said = isfile(report) ? read(report, String) : ""
        occursin("paused $point ", said) && return
        open(io -> println(io, "paused ", point, " ", getpid()), report, "a")
    end
    println(stderr, "paused ", point)
    flush(stderr)
    while true
        ccall(:pause, Cint, ())
    end
end
