# Include workload: `include` inside a module, and an included file that includes others (geo/geo.jl includes
# geo/shapes.jl and geo/measure.jl), with relative paths resolved as Julia does (against the including file).
module Geo
include("geo/geo.jl")
end

using .Geo

# A top-level call: these methods are compiled (and cached) on their own, not only in main().
check = (describe(Circle(2.0)), total_area(Geo.Shape[Rect(1.0, 2.0)]));

function main()
    shapes = [Circle(1.0), Rect(2.0, 3.0), Circle(0.5)]
    return (round(total_area(shapes); digits = 6), [describe(s) for s in shapes], Geo.largest(shapes))
end
