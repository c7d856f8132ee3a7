# Form: parametric structs with validating inner constructors, outer constructors, methods using T.
using Printf

struct Interval{T<:Real}
    lo::T
    hi::T
    # Inner constructor: reject empty intervals at construction time.
    function Interval{T}(lo::T, hi::T) where {T<:Real}
        lo <= hi || throw(ArgumentError("empty interval: $lo > $hi"))
        return new{T}(lo, hi)
    end
end

# Outer constructors: infer T, and promote mixed argument types.
Interval(lo::T, hi::T) where {T<:Real} = Interval{T}(lo, hi)
Interval(lo::Real, hi::Real) = Interval(promote(lo, hi)...)
Interval(x::Real) = Interval(x, x)

width(i::Interval) = i.hi - i.lo
Base.in(x::Real, i::Interval) = i.lo <= x <= i.hi
midpoint(i::Interval{T}) where {T<:AbstractFloat} = (i.lo + i.hi) / 2
midpoint(i::Interval{T}) where {T<:Integer} = (i.lo + i.hi) ÷ 2   # stays an integer
Base.eltype(::Type{Interval{T}}) where {T} = T

function Base.intersect(a::Interval{T}, b::Interval{T}) where {T}
    lo, hi = max(a.lo, b.lo), min(a.hi, b.hi)
    return lo <= hi ? Interval{T}(lo, hi) : nothing
end
hull(a::Interval, b::Interval) = Interval(min(a.lo, b.lo), max(a.hi, b.hi))
Base.:+(a::Interval, b::Interval) = Interval(a.lo + b.lo, a.hi + b.hi)

Base.show(io::IO, i::Interval{T}) where {T} = print(io, "[", i.lo, ", ", i.hi, "]::", T)

# A parametric container with a type parameter for the value and an Int for its size.
struct Ring{T,N}
    data::NTuple{N,T}
end
Ring(xs::T...) where {T} = Ring{T,length(xs)}(xs)
Base.getindex(r::Ring{T,N}, i::Integer) where {T,N} = r.data[mod1(i, N)]
capacity(::Ring{T,N}) where {T,N} = N

# Parametric abstract type and a subtype that fixes the parameter.
abstract type Measurement{U} end
struct Length{U} <: Measurement{U}
    value::Float64
end
unitname(::Measurement{U}) where {U} = string(U)
Base.show(io::IO, l::Length) = @printf(io, "%.2f %s", l.value, unitname(l))
convert_to(::Type{Length{:cm}}, l::Length{:inch}) = Length{:cm}(l.value * 2.54)

function main()
    a = Interval(1, 5)
    b = Interval(2.5, 7)      # promoted to Float64
    c = Interval{Int}(3, 9)
    d = Interval(big"2", big"3")
    bad = try
        Interval(5, 1)
        "accepted"
    catch e
        e.msg
    end
    both = intersect(a, c)
    none = intersect(Interval(0, 1), Interval(2, 3))
    r = Ring(:a, :b, :c)
    len = convert_to(Length{:cm}, Length{:inch}(12))
    return (string(a), string(b), string(both), none === nothing, midpoint(a), midpoint(b),
            string(hull(a, c)), width(a + c), 4 in a, 4.5 in b, string(eltype(typeof(b))),
            string(d), bad, r[5], capacity(r), string(len))
end
