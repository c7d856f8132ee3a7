"""
Small descriptive statistics: a test package for package caches (one of two; TinyReports depends on it).
"""
module TinyStats

export Summary, summarize, mean, variance, median, histogram, zscores

"Arithmetic mean of a non-empty collection."
function mean(xs)
    isempty(xs) && throw(ArgumentError("mean of an empty collection"))
    s = zero(float(eltype(xs)))
    for x in xs
        s += x
    end
    return s / length(xs)
end

"Sample variance (n - 1 in the denominator)."
function variance(xs)
    n = length(xs)
    n < 2 && throw(ArgumentError("variance needs at least two values"))
    m = mean(xs)
    return sum(x -> (x - m)^2, xs) / (n - 1)
end

function median(xs)
    isempty(xs) && throw(ArgumentError("median of an empty collection"))
    v = sort(collect(xs))
    n = length(v)
    return isodd(n) ? float(v[(n + 1) ÷ 2]) : (v[n ÷ 2] + v[n ÷ 2 + 1]) / 2
end

zscores(xs) = (m = mean(xs); s = sqrt(variance(xs)); [(x - m) / s for x in xs])

"Counts per bin of width `width`, starting at the minimum."
function histogram(xs, width::Real)
    width > 0 || throw(ArgumentError("bin width must be positive"))
    lo = minimum(xs)
    counts = Dict{Int,Int}()
    for x in xs
        b = floor(Int, (x - lo) / width)
        counts[b] = get(counts, b, 0) + 1
    end
    return [(lo + b * width, counts[b]) for b in sort!(collect(keys(counts)))]
end

Base.@kwdef struct Summary{T<:Real}
    n::Int
    mean::Float64
    median::Float64
    sd::Float64
    min::T
    max::T
end

summarize(xs::AbstractVector{T}) where {T<:Real} =
    Summary{T}(n = length(xs), mean = mean(xs), median = median(xs), sd = sqrt(variance(xs)), min = minimum(xs), max = maximum(xs))

Base.show(io::IO, s::Summary) = print(io, "Summary(n=", s.n, ", mean=", round(s.mean; digits = 3), ", sd=", round(s.sd; digits = 3), ")")

end
