# Warm-up for a worker started ahead of time (`worker.jl --serve`): one capture of Base methods only, thrown away,
# so that the worker's own code (signature resolution, jl_create_native, slot descriptions, Julia's passes, plan and
# JSON writing) is compiled before the session asks for a save. Run cold, those phases cost ~10 s of the ~12 s a
# save took (the slot descriptions alone 3.5 s: every `encode` branch compiled in imaging mode on first use).
# No definitions are replayed: Main stays empty for the session's own. The kinds of user code whose slots need
# their own description code (a parametric struct, a closure, keyword arguments, a Regex and a Dict constant) come
# from the module below, which lives inside CaptureWorker, never in Main (its gensym types still take the path of
# Main's, as it is a submodule of Main).

module WarmupDefs
struct Point{T}
    x::T
end
const PATTERN = r"^(\w+)=(\d+)\$"
const LIMITS = Dict("a" => 1)
scale(p::Point; by = 2) = Point(p.x * by)
function run(xs::Vector{Int})
    add = x -> x + LIMITS["a"]
    @assert !isempty(xs)   # its message is a quoted expression (a method root)
    m = match(PATTERN, "k=1")
    return sum(map(add, xs)) + (m === nothing ? 0 : length(m.captures)) + scale(Point(1)).x
end
end

const WARMUP_SIGNATURES = [
    "Tuple{typeof(Base.join), Array{String, 1}, String}",
    "Tuple{typeof(Base.string), String, Int64, String}",
    "Tuple{typeof(Base.getindex), Base.Dict{String, Int64}, String}",
    "Tuple{typeof(Base.setindex!), Base.Dict{String, Any}, Float64, String}",
    "Tuple{typeof(Base.push!), Array{Any, 1}, Pair{String, Int64}}",
    "Tuple{typeof(Base.sort!), Array{Float64, 1}}",
    "Tuple{typeof(Base.split), String, Char}",
    "Tuple{typeof(Base.match), Base.Regex, String}",
    "Tuple{typeof(Base.print_to_string), String, Float64}",
    "Tuple{Type{Base.Dict{Symbol, Any}}}",
    "Tuple{typeof(Main.CaptureWorker.WarmupDefs.run), Array{Int64, 1}}",
    "Tuple{typeof(Main.CaptureWorker.WarmupDefs.scale), Main.CaptureWorker.WarmupDefs.Point{Int64}}",
    # Signatures naming gensym types, inside Main (matched by name without counters) and outside (by name).
    string(Tuple{typeof(Core.kwfunc(WarmupDefs.scale)), NamedTuple{(:by,),Tuple{Int}}, typeof(WarmupDefs.scale), WarmupDefs.Point{Int}}),
    string(Tuple{typeof(Core.kwfunc(sprint)), NamedTuple{(:context,),Tuple{IOBuffer}}, typeof(sprint), typeof(show), Vector{Any}}),
]

function warm_up()
    dir = mktempdir()
    try
        result = capture(Any[], WARMUP_SIGNATURES, dir)
        open(io -> json_write(io, result), joinpath(dir, "capture.json"), "w")
        json_parse(read(joinpath(dir, "capture.json"), String))
    finally
        rm(dir; recursive = true, force = true)
    end
    return
end
