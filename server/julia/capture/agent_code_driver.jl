# The workload the agent-code cache is built from (server/src/capture/agentCode.ts): ordinary Julia of the kinds a
# user's session holds (structs, parametric and keyword constructors, closures, a docstring, Dict and string code,
# an @enum, an include-free module, an abstract type with dynamic dispatch, a mutable struct, an exception type with
# showerror, `::Type{T}` arguments, Regex and String constants), run in a throwaway session of the product's own, never the user's, so that the
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

abstract type Shape end
struct Square <: Shape
    side::Float64
end
struct Label <: Shape
    text::String
end
mutable struct Counter
    n::Int
end
struct BadInput <: Exception
    line::Int
end
Base.showerror(io::IO, e::BadInput) = print(io, "bad input on line ", e.line)
const WORD = r"([a-z]+)=(\d+)"
const GREETING = "hello"

describe(s::Square) = "square $(s.side)"
describe(s::Label) = "label " * s.text
convert_all(xs, ::Type{T}) where {T<:Real} = T[T(x) for x in xs]

function parse_words(text::String, c::Counter)
    out = Dict{String,Int}()
    for (i, line) in enumerate(split(text, '\n'))
        m = match(WORD, line)
        if m === nothing
            c.n += 1
            try
                throw(BadInput(i))
            catch e
                out[sprint(showerror, e)] = i
            end
        else
            out[m.captures[1]] = parse(Int, m.captures[2])
        end
    end
    return out
end

function main()
    ps = [Point(1.0, 2.0), Point(3.0, 4.0, "q"), Point(0.5, 0.25)]
    s = Settings(scale = 2.0, names = ["a"])
    text = summary(scaled(ps, s); by = p -> abs(p.x))
    shapes = Shape[Square(2.0), Label(GREETING)]
    c = Counter(0)
    words = parse_words("a=1\nnope\nb=22", c)
    return (text, summary(ps), string(green), Shapes.area(1.5), Int(blue), map(describe, shapes), words, c.n,
            convert_all([1, 2], Float64))
end
main()
