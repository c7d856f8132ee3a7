# Proves one cache entry in a throwaway Julia process before any user session installs it (server/src/cache/prove.ts).
# Run as `julia <the session's options> prove.jl <object> <object sha256> <plan> <plan sha256> <id> <report>` (plain
# arguments: a JSON job would compile a parser in every proving process, about half its time).
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
include(joinpath(HERE, "..", "testpause.jl"))

line(io::IO, tag::String, rest::String) = (write(io, tag, '\t', rest, '\n'); flush(io))
oneline(s::String) = replace(s, r"\s+" => " ")

function prove(object::String, object_sha256::String, plan::String, plan_sha256::String, id::String, report::String)
    open(report, "w") do io
        line(io, "stage", "link")
        n, err, _ = JLCache.load_entries(object, object_sha256, plan, plan_sha256, id)
        if !isempty(err)
            line(io, "rejected", oneline(err))
            return 2
        end
        line(io, "linked", string(n))
        test_pause("prove-linked")
        line(io, "stage", "gc")
        GC.gc(true)
        installed, present, pending, failed, why = JLCache.state_counts()
        line(io, "done", join(string.((installed, present, pending, failed)), '\t') * '\t' * oneline(why))
        return 0
    end
end
end

# _exit: no atexit hooks and no finalizers run; nothing here is kept.
ccall(:_exit, Cvoid, (Cint,), length(ARGS) == 6 ? JLCacheProve.prove(ARGS...) : 64)
