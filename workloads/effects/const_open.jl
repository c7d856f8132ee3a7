# Effect: a const that opens a file for writing at load time. Reloading cached
# code must not re-run this `open` (that would truncate out.txt again).
using Printf

const OUT = open(joinpath(ENV["JLC_EFFECTS_DIR"], "out.txt"), "w")

"Write one formatted line to OUT and flush, so a checker sees it immediately."
function record(tag::AbstractString, value::Real)
    println(OUT, @sprintf("%-6s %10.3f", tag, value))
    flush(OUT)
    return nothing
end

function main()
    values = [sqrt(i) for i in 1:5]
    for (i, v) in enumerate(values)
        record("v$i", v)
    end
    return (length(values), round(sum(values); digits = 6))
end
