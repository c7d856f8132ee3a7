# Benchmark only: one session of plain Julia or of a custom system image. `julia [-J sys.so] first_call.jl FILE.jl
# include|image RESULT`: stamps the wall clock when the session runs its first statement, includes the workload (plain
# Julia; a system image already defines it, and including it again would replace its compiled methods), times
# main()'s first call, prints one line the benchmark parses (ready and returned in epoch seconds, first call in ms)
# and writes repr(main()) to RESULT.
ready = time()
ARGS[2] == "include" && include(ARGS[1])
t0 = time_ns()
result = main()
t1 = time_ns()
returned = time()
println("JLC_FIRST_CALL ", ready, " ", returned, " ", (t1 - t0) / 1e6)
write(ARGS[3], repr(result))
