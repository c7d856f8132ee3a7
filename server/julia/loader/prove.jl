# Proves one cache entry in a throwaway Julia process before any user session installs it (server/src/cache/prove.ts).
# Run as `julia <the session's options> prove.jl <job.json>`; job: { object, objectSha256, plan, planSha256, id, report }.
#
# It does in this process what the agent would do in the user's: link the object (every relocation resolved and
# applied), fill its slots and install the methods that need no user definition, through the same C loader; then a
# full GC walks every object the loader created and rooted. It runs none of the user's code: methods that need the
# user's definitions stay linked, not installed (the session checks them as it installs them). No cached method is
# called. A crash, a signal or a hang kills only this process.
#
# Progress goes to the report file line by line (flushed), so a crash still says which step it was in:
#   stage <name>           a step began (link, gc)
#   linked <n>             the object linked; n methods in its plan
#   rejected <reason>      the loader refused the entry (exit code 2)
#   done <installed> <present> <pending> <failed> <first failure reason>
module JLCacheProve
const HERE = @__DIR__
include(joinpath(HERE, "glue.jl"))
include(joinpath(HERE, "..", "agent", "src", "json.jl"))
include(joinpath(HERE, "..", "testpause.jl"))

function prove(jobpath::String)
    job = json_parse(read(jobpath, String))
    open(String(job["report"]), "w") do io
        say(parts...) = (println(io, join(parts, '\t')); flush(io))
        say("stage", "link")
        n, err, _ = JLCache.load_entries(String(job["object"]), String(job["objectSha256"]), String(job["plan"]),
                                         String(job["planSha256"]), String(job["id"]))
        if !isempty(err)
            say("rejected", replace(err, r"\s+" => " "))
            return 2
        end
        say("linked", n)
        test_pause("prove-linked")
        say("stage", "gc")
        GC.gc(true)
        st = JLCache.status()
        failed = st["failed"]
        why = isempty(failed) ? "" : replace(String(failed[1]["reason"]), r"\s+" => " ")
        say("done", st["installed"], st["present"], st["pending"], length(failed), why)
        return 0
    end
end
end

# _exit: no atexit hooks and no finalizers run; nothing here is kept.
ccall(:_exit, Cvoid, (Cint,), JLCacheProve.prove(ARGS[1]))
