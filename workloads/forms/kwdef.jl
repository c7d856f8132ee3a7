# Form: Base.@kwdef structs with default field values, constructed with keywords.
using Printf

# Settings for an HTTP-ish client; defaults let callers name only what they change.
Base.@kwdef struct ClientConfig
    host::String = "localhost"
    port::Int = 8080
    timeout::Float64 = 30.0
    retries::Int = 3
    verbose::Bool = false
    headers::Dict{String,String} = Dict("Accept" => "text/plain")
end

# A mutable one, because a user tweaks it after construction.
Base.@kwdef mutable struct PlotStyle
    title::String = "untitled"
    width::Int = 640
    height::Int = 480
    colors::Vector{Symbol} = [:blue, :red, :green]
    linewidth::Float64 = 1.5
end

# A parametric @kwdef struct: the type parameter comes from the field values.
Base.@kwdef struct Range2D{T<:Real}
    xmin::T = 0
    xmax::T = 1
    ymin::T = 0
    ymax::T = 1
end

url(c::ClientConfig) = string("http://", c.host, ":", c.port, "/")

function describe(c::ClientConfig)
    hs = join(sort(["$k=$v" for (k, v) in c.headers]), ",")
    return @sprintf("%s timeout=%.1fs retries=%d verbose=%s headers=[%s]",
                    url(c), c.timeout, c.retries, c.verbose, hs)
end

aspect(p::PlotStyle) = p.width / p.height
area(r::Range2D) = (r.xmax - r.xmin) * (r.ymax - r.ymin)

# Build a copy with some fields replaced, the usual idiom for immutable configs.
function with(c::ClientConfig; kw...)
    fields = Dict{Symbol,Any}(f => getfield(c, f) for f in fieldnames(ClientConfig))
    for (k, v) in kw
        fields[k] = v
    end
    return ClientConfig(; fields...)
end

function main()
    default = ClientConfig()
    custom = ClientConfig(host = "example.org", port = 443, verbose = true)
    slower = with(custom; timeout = 120.0, retries = 5)
    style = PlotStyle(title = "Sales", width = 1024)
    style.height = 512
    push!(style.colors, :orange)
    r_int = Range2D(xmax = 10, ymax = 4)
    r_float = Range2D(xmin = -1.5, xmax = 2.5, ymin = 0.0, ymax = 0.5)
    return (describe(default), describe(custom), describe(slower),
            style.title, aspect(style), join(string.(style.colors), "/"),
            area(r_int), area(r_float), string(typeof(r_float)))
end
