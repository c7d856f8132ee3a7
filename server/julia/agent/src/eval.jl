# The `eval` request: run code statement by statement in Main, like `include_string` (file/line in stack traces
# and method locations), with REPL-style display of the last value, per-eval compile time from the compile log,
# and a record of every statement (hash, kind, line).

"Definition statements the capture worker replays, in evaluation order: (code, file, line, hash, target)."
const DEFINITIONS = NamedTuple{(:code, :file, :line, :hash, :target),Tuple{String,String,Int,String,Union{Symbol,Nothing}}}[]

"""
First successful run of each statement (by hash) in this session: (ms, methods compiled). Saved with the compiled
work, so a session that runs the statement with the cache can report what the cache saved (timing.coldMs).
"""
const FIRST_RUNS = Dict{String,Tuple{Float64,Int}}()

const EVAL_MODULE_NAME = "Main"
const MAX_FRAMES = 64

"""
Appends a successfully evaluated definition unless it is an exact re-evaluation that changes nothing: the same
text was recorded before and no later definition touched the same name (see `definition_target`).
"""
function record_definition!(st::Statement, file::String)
    i = findlast(d -> d.hash == st.hash, DEFINITIONS)
    if i !== nothing && st.target !== nothing
        touched = false
        for j in i+1:length(DEFINITIONS)
            t = DEFINITIONS[j].target
            if t === nothing || (t === st.target && t !== Symbol(""))
                touched = true
                break
            end
        end
        touched || return
    end
    push!(DEFINITIONS, (code = st.text, file = file, line = st.line, hash = st.hash, target = st.target))
    return
end

function run_after_statement_hooks(hash::String, kind::String)
    for hook in AFTER_STATEMENT_HOOKS
        try
            Base.invokelatest(hook, hash, kind)
        catch e
            e isa InterruptException && rethrow()
            print(stderr, "julia-compiled-cache: an after-statement hook failed: ", error_text(e), "\n")
        end
    end
end

is_package_load(@nospecialize(ex)) = ex isa Expr && (ex.head === :using || ex.head === :import ||
    (ex.head === :toplevel && any(is_package_load, ex.args)))

function flush_output()
    try
        flush(stdout)
        flush(stderr)
    catch e
        e isa InterruptException && rethrow()
    end
    Libc.flush_cstdio()
end

"True for frames of the agent itself (where the user's code was called from)."
function agent_frame(sf::Base.StackTraces.StackFrame)
    li = sf.linfo
    li isa Core.MethodInstance && li.def isa Method && (li.def::Method).module === (@__MODULE__) && return true
    return startswith(string(sf.file), AGENT_DIR)
end

"Frames of a backtrace; C frames only where an extension names them (FRAME_RESOLVERS, e.g. cached code)."
function named_frames(bt)
    frames = Base.StackTraces.StackFrame[]
    for sf in stacktrace(bt, true)
        sf.from_c || (push!(frames, sf); continue)
        for resolve in FRAME_RESOLVERS
            named = try
                Base.invokelatest(resolve, sf.pointer)
            catch
                nothing
            end
            named isa Base.StackTraces.StackFrame && (push!(frames, named); break)
        end
    end
    return frames
end

"The user's part of a backtrace: innermost frame first, cut where the agent called Core.eval."
function user_frames(bt)
    out = Any[]
    frames = named_frames(bt)
    stop = findfirst(agent_frame, frames)
    stop = stop === nothing ? length(frames) : stop - 1
    while stop > 0 && frames[stop].func === Symbol("eval") && string(frames[stop].file) == "./boot.jl"
        stop -= 1
    end
    for k in 1:min(stop, MAX_FRAMES)
        sf = frames[k]
        push!(out, Dict{String,Any}("func" => string(sf.func), "file" => string(sf.file), "line" => sf.line))
    end
    return out
end

function error_result(kind::String, message::String, stack::Vector{Any})
    return Dict{String,Any}("kind" => kind, "message" => message, "stack" => stack)
end

function handle_eval(params::Dict{String,Any})
    code = param(params, "code", String, nothing)
    code === nothing && throw(RPCError(INVALID_PARAMS, "eval needs 'code' (a string)"))
    file = param(params, "file", String, "")
    file = isempty(file) ? "none" : file
    line = param(params, "line", Int, 1)
    line < 1 && throw(RPCError(INVALID_PARAMS, "'line' must be >= 1"))
    return evaluate(code, file, line, Main, true)
end

"""
Evaluates `code` statement by statement in `mod` (Main for the user; a throwaway module for the agent's warm-up,
with `record` false: no definitions are recorded for the capture worker). Runs with SIGINT deferred (a handler).
"""
function evaluate(code::String, file::String, line::Int, mod::Module, record::Bool)
    t0 = time_ns()
    records = Any[]
    result = Dict{String,Any}("ok" => true, "statements" => records)
    compile_ms = 0.0
    ncompiled = 0
    stmts, problem = split_statements(code, file, line, EVAL_MODULE_NAME)
    if problem !== nothing
        result["ok"] = false
        frame = Dict{String,Any}("func" => "top-level scope", "file" => file, "line" => problem.line)
        result["error"] = error_result("syntax", problem.message, Any[frame])
    else
        filesym = Symbol(file)
        # like include_string: relative include() paths resolve against the evaluated file's directory
        had_path = haskey(task_local_storage(), :SOURCE_PATH)
        old_path = get(task_local_storage(), :SOURCE_PATH, nothing)
        isabspath(file) && (task_local_storage()[:SOURCE_PATH] = file)
        value = nothing
        try
            # The agent handles requests with SIGINT deferred (main.jl); the user's code may be interrupted.
            Base.sigatomic_end()
            for st in stmts
                rec = Dict{String,Any}("hash" => st.hash, "kind" => st.kind, "line" => st.line)
                push!(records, rec)
                failure = nothing
                st_t0 = time_ns()
                started = record ? begin_statement() : nothing
                compile_log_on(COMPILE_LOG[])
                try
                    value = Core.eval(mod, Expr(:toplevel, LineNumberNode(st.line, filesym), st.ex))
                catch e
                    failure = (e, catch_backtrace())
                finally
                    compile_log_off(COMPILE_LOG[])
                end
                record && end_statement!(started, st, file, failure === nothing)
                flush_output()
                ms, n = drain_compile_log!(COMPILE_LOG[])
                compile_ms += ms
                ncompiled += n
                rec["ms"] = st_ms = (time_ns() - st_t0) / 1e6
                rec["methodsCompiled"] = n
                if failure === nothing
                    record && get!(FIRST_RUNS, st.hash, (st_ms, n))
                    record && st.kind == "definition" && record_definition!(st, file)
                    run_after_statement_hooks(st.hash, st.kind)
                    continue
                end
                is_package_load(st.ex) && run_after_statement_hooks(st.hash, st.kind)  # packages may be half-loaded
                e, bt = failure::Tuple{Any,Any}
                result["ok"] = false
                result["error"] = e isa InterruptException ?
                    error_result("interrupted", "InterruptException:", user_frames(bt)) :
                    error_result("exception", error_text(e), user_frames(bt))
                break
            end
            if result["ok"] === true && value !== nothing && !isempty(stmts) && !ends_with_semicolon(stmts[end].text)
                compile_log_on(COMPILE_LOG[])                  # display compiles `show` for the user's types
                try
                    result["display"] = display_text(value)
                finally
                    compile_log_off(COMPILE_LOG[])
                end
                ms, n = drain_compile_log!(COMPILE_LOG[])
                compile_ms += ms
                ncompiled += n
            end
        catch e
            e isa InterruptException || rethrow()
            compile_log_off(COMPILE_LOG[])
            flush_output()
            ms, n = drain_compile_log!(COMPILE_LOG[])
            compile_ms += ms
            ncompiled += n
            result["ok"] = false
            result["error"] = error_result("interrupted", "InterruptException:", user_frames(catch_backtrace()))
        finally
            Base.sigatomic_begin()
            if had_path
                task_local_storage()[:SOURCE_PATH] = old_path
            else
                delete!(task_local_storage(), :SOURCE_PATH)
            end
        end
    end
    result["compileMs"] = compile_ms
    result["methodsCompiled"] = ncompiled
    result["totalMs"] = (time_ns() - t0) / 1e6
    return result
end
