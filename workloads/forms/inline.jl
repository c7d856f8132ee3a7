# Form: @inline / @noinline annotations, on long-form and short-form definitions.
using Printf

# Small hot helpers: ask the compiler to inline them into the loops below.
@inline sq(x) = x * x
@inline clamp01(x) = ifelse(x < 0, zero(x), ifelse(x > 1, one(x), x))
@inline function lerp(a, b, t)
    return a + (b - a) * t
end

# Error paths are kept out of line so the callers stay small.
@noinline function throw_length_mismatch(a, b)
    throw(DimensionMismatch("lengths $(length(a)) and $(length(b)) differ"))
end

@noinline function slow_describe(x)
    return @sprintf("value %.4f (%s)", x, x > 0.5 ? "high" : "low")
end

function dist2(a::AbstractVector, b::AbstractVector)
    length(a) == length(b) || throw_length_mismatch(a, b)
    s = zero(promote_type(eltype(a), eltype(b)))
    @inbounds for i in eachindex(a)
        s += sq(a[i] - b[i])
    end
    return s
end

function blend(xs::Vector{Float64}, ys::Vector{Float64}, t)
    return [clamp01(lerp(x, y, t)) for (x, y) in zip(xs, ys)]
end

# Inlining at a call site (supported since 1.8) is not used: this is Julia 1.5.
smoothstep(t) = (u = clamp01(t); sq(u) * (3 - 2u))

function main()
    xs = [i / 10 for i in 0:10]
    ys = [1 - x^2 for x in xs]
    d = dist2(xs, ys)
    di = dist2([1, 2, 3], [4, 6, 8])
    b = blend(xs, ys, 0.25)
    s = map(smoothstep, -0.5:0.25:1.5)
    msg = try
        dist2([1.0], [1.0, 2.0])
        "no error"
    catch err
        sprint(showerror, err)
    end
    return (round(d; digits = 6), di, round(sum(b); digits = 6), join(round.(s; digits = 4), ","),
            slow_describe(b[end]), msg)
end
