# Effect: a const log file opened for appending at load time. Each main() call
# appends exactly one line, so log.txt's line count must equal the number of
# main() calls; a line the user did not ask for means code was re-run.
using Printf

const LOG = open(joinpath(ENV["JLC_EFFECTS_DIR"], "log.txt"), "a")

const CALLS = Ref(0)

function log_line(msg::AbstractString)
    CALLS[] += 1
    println(LOG, @sprintf("call %d: %s", CALLS[], msg))
    flush(LOG)
    return CALLS[]
end

function main()
    words = split("the quick brown fox jumps over the lazy dog")
    counts = Dict{String,Int}()
    for w in words
        counts[w] = get(counts, w, 0) + 1
    end
    summary = join(["$w=$(counts[w])" for w in sort(collect(keys(counts)))], " ")
    log_line(summary)
    return summary
end
