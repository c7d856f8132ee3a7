# Warm-up: the agent's own eval path (statement split, Core.eval, compile log, after-statement hooks, the result)
# is compiled right after the `initialize` reply, before the server's next request is read. The package image holds
# only inference results, so without this the user's first evaluation paid the LLVM code generation of agent code
# (measured through the server: a cached `main()` 29 ms as the first expression statement, 1.1 ms after this).
# Most of that cost moves rather than adds: the user's first eval would compile the same graph. The warm-up is one
# expression statement: a definition statement compiles nothing more of the agent.

"Set by `initialize`: the warm-up runs once, after that reply is written."
const WARMUP_DUE = Ref(false)

"Runs one expression statement in a throwaway module; nothing is recorded in the session log (definitions, compiles)."
function warm_up()
    ncompiled = length(COMPILED)
    evaluate("warmup_x = 1;", "none", 1, Module(:JLCacheAgentWarmup), false)   # catches the code's own errors
    resize!(COMPILED, ncompiled)
    return
end
