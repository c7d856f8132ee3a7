# Include workload: a script whose functions live in included library files (lib/stats.jl, lib/text.jl), as real
# projects are laid out. Editing one function there must make exactly the cached code that depends on it stale.
include("lib/stats.jl")
include("lib/text.jl")

summary_line(xs) = string("n=", length(xs), " mean=", round(mean(xs); digits = 3), " spread=", round(spread(xs); digits = 3))

# A top-level call, as scripts make them: these functions are compiled (and cached) on their own, not only in main().
check = (summary_line([1.0, 2.0, 4.0]), topword(tokens("b a b")), wordlengths(["ab"]), scaled([1.0], 3.0));

function main()
    xs = [Float64(i % 7) * 1.5 for i in 1:40]
    words = tokens("The quick brown fox jumps over the lazy dog; the dog sleeps, the fox runs.")
    return (summary_line(xs), scaled(xs, 2.0)[1:3], topword(words), wordlengths(words))
end
