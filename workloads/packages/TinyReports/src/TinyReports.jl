"""
Plain-text reports over TinyStats summaries: the second test package for package caches (it depends on the first).
"""
module TinyReports

using Printf
using TinyStats

export Column, report, table

struct Column
    name::String
    values::Vector{Float64}
end
Column(name::AbstractString, values::AbstractVector{<:Real}) = Column(String(name), Float64.(values))

"One line per column: name, n, mean, median, sd, min, max."
function table(cols::Vector{Column})
    io = IOBuffer()
    @printf(io, "%-10s %4s %9s %9s %9s %9s %9s\n", "column", "n", "mean", "median", "sd", "min", "max")
    for c in cols
        s = summarize(c.values)
        @printf(io, "%-10s %4d %9.3f %9.3f %9.3f %9.3f %9.3f\n", c.name, s.n, s.mean, s.median, s.sd, s.min, s.max)
    end
    return String(take!(io))
end

"A report: the table, then each column's outliers (|z| > limit)."
function report(cols::Vector{Column}; limit::Real = 2.0)
    lines = [table(cols)]
    for c in cols
        z = zscores(c.values)
        out = [v for (v, zv) in zip(c.values, z) if abs(zv) > limit]
        isempty(out) || push!(lines, string(c.name, " outliers: ", join((@sprintf("%.2f", v) for v in out), ", ")))
    end
    return join(lines, "\n")
end

end
