# Form: do-block syntax with map, sprint, get!, open-free IO, and user higher-order functions.
using Printf

# A user function written to be called with a do-block: runs f, logging before and after.
function with_logging(f, log::Vector{String}, name::AbstractString)
    push!(log, "start $name")
    result = f()
    push!(log, "end $name")
    return result
end

# Another: retries f until it returns something, a common do-block API shape.
function retry_until(f, attempts::Int)
    for i in 1:attempts
        r = f(i)
        r === nothing || return r
    end
    return nothing
end

function main()
    xs = [2, 7, 1, 8, 2, 8, 1, 8]
    log = String[]

    # map with a multi-line do-block body
    classified = map(xs) do x
        if x > 5
            "big"
        elseif x > 1
            "mid"
        else
            "small"
        end
    end

    # sprint with a do-block to build a string through an IO
    report = sprint() do io
        println(io, "Report")
        for (i, x) in enumerate(xs)
            @printf(io, "%2d: %3d %s\n", i, x, classified[i])
        end
        print(io, "total=", sum(xs))
    end

    # get! with a do-block computes the default only for missing keys
    cache = Dict{Int,String}()
    misses = Ref(0)
    for x in xs
        get!(cache, x) do
            misses[] += 1
            repeat("*", x)
        end
    end

    # filter and sort with do-blocks
    odds = filter(xs) do x
        isodd(x)
    end
    sorted = sort(unique(xs); lt = (a, b) -> a > b)

    # reading lines from an in-memory IOBuffer inside a do-block
    buf = IOBuffer("alpha 1\nbeta 22\ngamma 333\n")
    parsed = Dict{String,Int}()
    foreach(eachline(buf)) do line
        name, num = split(line)
        parsed[name] = parse(Int, num)
    end

    # user-defined do-block functions
    total = with_logging(log, "sum") do
        sum(x -> x^2, xs)
    end
    found = retry_until(5) do i
        i * i > 10 ? i : nothing
    end

    # mapreduce with a do-block mapper
    weighted = mapreduce(+, enumerate(xs)) do (i, x)
        i * x
    end

    # IOContext through sprint, with a do-block
    compact = sprint(; context = :compact => true) do io
        show(io, [1 / 3, 2 / 3])
    end

    return (join(classified, ","), report, misses[], length(cache), cache[8],
            join(odds, ","), join(sorted, ","), parsed["gamma"], total,
            join(log, ";"), found, weighted, compact)
end
