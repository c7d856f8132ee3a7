# Text helpers of the include workload (report.jl): independent of lib/stats.jl.
tokens(s) = [lowercase(w) for w in split(s, r"[^A-Za-z]+"; keepempty = false)]

function topword(words)
    counts = Dict{String,Int}()
    for w in words
        counts[w] = get(counts, w, 0) + 1
    end
    best = sort!(collect(counts); by = p -> (-p.second, p.first))
    return first(best)
end

wordlengths(words) = sort!(unique(length.(words)))
