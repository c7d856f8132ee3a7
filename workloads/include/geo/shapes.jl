# Shapes of the nested include workload (included by geo/geo.jl).
abstract type Shape end

struct Circle <: Shape
    r::Float64
end

struct Rect <: Shape
    w::Float64
    h::Float64
end

describe(c::Circle) = "circle r=$(c.r)"
describe(r::Rect) = "rect $(r.w)x$(r.h)"
