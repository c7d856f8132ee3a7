# Warm-up: the agent's own eval path (statement split, Core.eval, compile log, after-statement hooks) and the
# request paths of its extensions (e.g. the cache loader's `cache/load`) are compiled at start, by the `warmUp`
# request the server sends right after `initialize`: a session reports ready only once its first evaluation costs
# what the user's code costs. `initialize` is answered first so the server can open and list the cache of this
# identity during the warm-up (~1 s) instead of after it.
# The package image holds only inference results. Without this the user's first evaluation paid the LLVM code
# generation of agent code (through the server: a cached `main()` took 29 ms as the first expression statement,
# 1.1 ms after this) and the first `cache/load` ~100 ms of compiling the loader glue. Most of it moves rather than
# adds (the first eval compiled the same code); a session that never loads a cache pays the loader's part at start.

const WARMED_UP = Ref(false)

"Functions (no arguments) extensions register to compile their request paths during the warm-up."
const WARMUP_HOOKS = Function[]

"Runs one expression statement in a throwaway module (nothing recorded in the session log), then the hooks."
function warm_up()
    ncompiled = length(COMPILED)
    evaluate("warmup_x = 1;", "none", 1, Module(:JLCacheAgentWarmup), false)   # catches the code's own errors
    resize!(COMPILED, ncompiled)
    for hook in WARMUP_HOOKS
        try
            Base.invokelatest(hook)
        catch e
            print(stderr, "julia-compiled-cache: an agent warm-up hook failed: ", error_text(e), "\n")
        end
    end
    return
end

"`warmUp` {} -> {}: runs the warm-up once (a second request answers at once)."
function handle_warm_up(::Dict{String,Any})
    WARMED_UP[] || (WARMED_UP[] = true; warm_up())
    return Dict{String,Any}()
end

register_handler("warmUp", handle_warm_up)
precompile(handle_warm_up, (Dict{String,Any},))
