# The workload the agent-code cache is built from (server/src/capture/agentCode.ts): ordinary Julia of the kinds a
# user's session holds (structs, parametric and keyword constructors, closures, a docstring, Dict and string code,
# an @enum, an include-free module), run in a throwaway session of the product's own, never the user's, so that the
# capture code compiles the paths it takes on real user code. Its own results are discarded.

"A point with a label."
struct Point{T<:Real}
    x::T
    y::T
    label::String
end
Point(x::T, y::T) where {T<:Real} = Point{T}(x, y, "p")

Base.@kwdef struct Settings
    scale::Float64 = 1.0
    names::Vector{String} = String[]
end

@enum Color red green blue

module Shapes
area(r::Float64) = pi * r^2
end

norm2(p::Point) = p.x^2 + p.y^2
scaled(ps::Vector{<:Point}, s::Settings) = [Point(p.x * s.scale, p.y * s.scale, p.label) for p in ps]

function summary(ps; by = norm2)
    groups = Dict{String,Vector{Float64}}()
    for p in ps
        push!(get!(() -> Float64[], groups, p.label), by(p))
    end
    keys_ = sort!(collect(keys(groups)))
    return join(("$(k)=$(round(sum(groups[k]); digits = 2))" for k in keys_), ", ")
end

function main()
    ps = [Point(1.0, 2.0), Point(3.0, 4.0, "q"), Point(0.5, 0.25)]
    s = Settings(scale = 2.0, names = ["a"])
    text = summary(scaled(ps, s); by = p -> abs(p.x))
    return (text, summary(ps), string(green), Shapes.area(1.5), Int(blue))
end
main()
