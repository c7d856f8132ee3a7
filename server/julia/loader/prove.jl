# Proves one cache entry in a throwaway Julia process before any user session installs it (server/src/cache/prove.ts).
# Run as `julia <the session's options> prove.jl <job.json>`; job: { object, plan, id, definitions, report }.
#
# It does in this process what the agent would do in the user's: link the object, fill its slots and install its
# methods through the same C loader. Entries without requirements install right after the link; user methods install
# as their defining statements are replayed, with the capture worker's replay (server/julia/capture/REPLAY.md:
# definitions only, never expressions, so no user side effect is repeated). No cached method is called: the code
# would need arguments we cannot invent, and user code may have side effects. A full GC afterwards walks every
# object the loader created and rooted. A crash, a signal or a hang kills only this process.
#
# Progress goes to the report file line by line (flushed), so a crash still says which step it was in:
#   stage <name>           a step began (link, replay, gc)
#   linked <n>             the object linked; n methods in its plan
#   rejected <reason>      the loader refused the entry (exit code 2)
#   done <installed> <present> <pending> <failed> <replayed> <first failure reason>
module JLCacheProve
const HERE = @__DIR__
include(joinpath(HERE, "glue.jl"))
include(joinpath(HERE, "..", "agent", "src", "json.jl"))
include(joinpath(HERE, "..", "capture", "replay.jl"))

function prove(jobpath::String)
    job = json_parse(read(jobpath, String))
    open(String(job["report"]), "w") do io
        say(parts...) = (println(io, join(parts, '\t')); flush(io))
        say("stage", "link")
        n, err = JLCache.load_entries(String(job["object"]), String(job["plan"]); name = String(job["id"]))
        if !isempty(err)
            say("rejected", replace(err, r"\s+" => " "))
            return 2
        end
        say("linked", n)
        definitions = something(get(job, "definitions", nothing), Any[])
        replayed = 0
        if !isempty(definitions)
            say("stage", "replay")
            for r in replay(definitions)
                r.ok || continue
                replayed += 1
                JLCache.packages_changed()   # after `using`: package requirements, as in the agent
                JLCache.statement_done(r.hash)
            end
        end
        say("stage", "gc")
        GC.gc(true)
        st = JLCache.status()
        failed = st["failed"]
        why = isempty(failed) ? "" : replace(String(failed[1]["reason"]), r"\s+" => " ")
        say("done", st["installed"], st["present"], st["pending"], length(failed), replayed, why)
        return 0
    end
end
end

# _exit: no atexit hooks (a replayed definition may have registered one) and no finalizers run; nothing here is
# kept. Output the replayed definitions might print goes to this process's stdout, which is only read for errors.
ccall(:_exit, Cvoid, (Cint,), JLCacheProve.prove(ARGS[1]))
