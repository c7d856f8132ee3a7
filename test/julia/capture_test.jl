# Tests of the capture code (server/julia/capture) on its own, in a plain Julia process, and of the agent's
# `capture` request in a real agent session (in-session capture, refusals).
# Run: LD_LIBRARY_PATH=.deps/libunwind/usr/lib/x86_64-linux-gnu julia --startup-file=no test/julia/capture_test.jl
using Test
using SHA
using Libdl

const REPO = normpath(joinpath(@__DIR__, "..", ".."))
const JL = joinpath(REPO, "server", "julia")

module C
using SHA: sha1, sha256
using Libdl
const JL = Main.JL
include(joinpath(JL, "internals", "julia-1.5.3.jl"))
include(joinpath(JL, "internals", "verified-builds.jl"))
include(joinpath(JL, "capture", "modules.jl"))
include(joinpath(JL, "capture", "imaging.jl"))
end

# User code of this "session": a constructor with a visible side effect, to prove resolution never calls it.
const CONSTRUCTED = Ref(0)
struct Tagged
    x::Int
    Tagged(x) = (CONSTRUCTED[] += 1; new(x))
end
struct Holder{T} end
twice_t(x) = 2x

@testset "plan format numbers come from the loader's header, one definition for writer and reader" begin
    header = read(joinpath(JL, "loader", "planformat.h"), String)
    ops = [m[1] for m in eachmatch(r"^#define (OP_[A-Z]+) 0x"m, header)]
    @test length(ops) == 24 && all(op -> isdefined(C, Symbol(op)), ops)
    @test C.OP_CLOSURE === 0x18 && C.ENTRY_FPTR_SPARAM === 0x02
    @test C.PLAN_VERSION isa UInt32 && C.PLAN_MAGIC == b"JLCPLAN\0"
end

@testset "reach_unions: every node gets the union over what it reaches, cycles included" begin
    g = Dict(1 => [2], 2 => [3], 3 => [1, 4], 4 => Int[], 5 => [4], 6 => [6, 5])
    own = Dict(1 => ["a"], 2 => ["b"], 3 => String[], 4 => ["d"], 5 => ["e"], 6 => ["f"])
    r = C.reach_unions(1:6, n -> g[n], n -> own[n], Int, String)
    @test r[1] == r[2] == r[3] == Set(["a", "b", "d"])
    @test r[4] == Set(["d"]) && r[5] == Set(["d", "e"]) && r[6] == Set(["d", "e", "f"])
    # a long chain (deeper than a recursive walk could go) finishes
    n = 200_000
    long = C.reach_unions([1], k -> k < n ? [k + 1] : Int[], k -> k == n ? [k] : Int[], Int, Int)
    @test long[1] == Set([n])
end

@testset "signatures resolve without running code" begin
    ok(s) = C.eval_type(Meta.parse(s))
    @test ok("Tuple{typeof(Main.twice_t), Int64}") === Tuple{typeof(twice_t),Int}
    @test ok("Tuple{typeof(Base.show), Base.IOContext{Base.GenericIOBuffer{Array{UInt8, 1}}}, Base.Multimedia.MIME{Symbol(\"text/plain\")}}") ===
          Tuple{typeof(show),IOContext{IOBuffer},MIME"text/plain"}
    @test ok("Array{T, 1} where T<:Integer") == (Vector{T} where T<:Integer)
    @test ok("Tuple{Main.Holder{(1, :a)}, Char}") === Tuple{Holder{(1, :a)},Char}
    @test ok("Tuple{Base.Val{-3}}") === Tuple{Val{-3}}
    before = CONSTRUCTED[]
    @test_throws C.Unsupported ok("Tuple{Main.Holder{Main.Tagged(1)}}")
    @test_throws C.Unsupported ok("Tuple{typeof(Main.undefined_thing_t)}")
    @test CONSTRUCTED[] == before
    mi, why = C.resolve_signature("Tuple{typeof(Main.twice_t), Int64}", C.world_counter())
    @test mi isa Core.MethodInstance && mi.specTypes === Tuple{typeof(twice_t),Int} && why == ""
    mi, why = C.resolve_signature("Tuple{Main.Holder{Main.Tagged(2)}}", C.world_counter())
    @test mi === nothing && occursin("code to run", why) && CONSTRUCTED[] == before
    @test C.resolve_signature("Tuple{typeof(Base.string), Char(0x79000000)}", C.world_counter())[2] != ""   # a value, not a type: no method
    # A wrapper written out is the wrapper itself: otherwise the MethodInstance would be one dispatch never calls.
    @test ok("Tuple{typeof(Base.string), Type{T} where T}").parameters[2] === Type
    @test ok("Tuple{typeof(Base.unsafe_wrap), Type{Array{T, N} where N where T}, Ptr{UInt8}, Int64}").parameters[2] === Type{Array}
    # An argument dispatch widened is jl_typetype_type, not the wrapper (`===` to it, but another object): the
    # MethodInstance must be the one dispatch makes, and its plan must rebuild it, not name the wrapper.
    @eval Main widen_probe(t::Type) = t
    Base.invokelatest(() -> foreach(T -> Main.widen_probe(T), Any[Int, String]))
    mine, _ = C.resolve_signature("Tuple{typeof(Main.widen_probe), Type{T} where T}", C.world_counter())
    specs = which(Main.widen_probe, Tuple{Type}).specializations
    compiled = [specs[i] for i in 1:length(specs) if isassigned(specs, i) && specs[i] isa Core.MethodInstance && isdefined(specs[i], :cache)]
    @test any(d -> d === mine, compiled)
    w = C.PlanWriter(Method[])
    @test C.encode(w, Type) != C.encode(w, C.typetype_type())
end

@testset "constant digests: values inference may fold, never identities" begin
    @test C.const_digest(42) == C.const_digest(42) && C.const_digest(42) != C.const_digest(43)
    @test C.const_digest(42) != C.const_digest(42.0)
    @test C.const_digest("abc") == C.const_digest(string("ab", "c")) != C.const_digest("abd")
    @test C.const_digest((1, :a, "s")) != C.const_digest((1, :a, "t"))
    @test C.const_digest([1, 2]) === nothing          # mutable: code reaches it through its binding
    @test C.const_digest(Int) === nothing && C.const_digest(sin) === nothing && C.const_digest(Base) === nothing
    @test C.const_binding_requirement(Main, :nothing) === nothing   # Core's, not Main's
end

@testset "statement index: a method belongs to the statement whose world range holds it" begin
    w0 = C.world_counter()
    @eval late_t(x) = x
    w1 = C.world_counter()
    inc = C.IncludedFile("/tmp/lib_t.jl", [(1, 3, "h1"), (4, 9, "h2")])
    rs = [C.StatementRecord("before", "/s.jl", 1, 1, w0 - 5, w0 - 1, Symbol[], C.IncludedFile[], String[]),
          C.StatementRecord("defines", "/s.jl", 2, 2, w0, w1, [:late_t], [inc], String[])]
    ix = C.StatementIndex(rs)
    m = first(methods(late_t))
    @test C.record_at_world(ix, m.primary_world).hash == "defines"
    req = Set{String}()
    C.method_requires!(req, ix, m)
    @test "stmt:defines" in req
    @test C.record_at_world(ix, w1 + 100) === nothing
    req = Set{String}()
    C.method_requires!(req, C.StatementIndex(rs[1:1]), m)
    @test any(r -> startswith(r, C.UNKNOWN_PREFIX), req)
end

@testset "the imaging flag is found only on a verified build" begin
    if bytes2hex(open(sha256, realpath(Libdl.dlpath("libjulia")))) == C.VERIFIED_BUILDS[1].sha256
        @test C.inprocess_refusal() === nothing
        @test C.IMAGING_FLAG[] != C_NULL && unsafe_load(C.IMAGING_FLAG[]) == 0x00
        base, path = C.libjulia_image()
        b = C.VERIFIED_BUILDS[1]
        wrong = C.VerifiedBuild(b.name, b.sha256, b.exported, b.imaging_mode + 8, b.anchors)
        @test occursin("addresses another variable", C.build_mismatch(wrong, base, path))
        moved = C.VerifiedBuild(b.name, b.sha256, [:jl_create_native => b.exported[1][2] + 16], b.imaging_mode, b.anchors)
        @test occursin("not at its verified offset", C.build_mismatch(moved, base, path))
    else
        @test occursin("not a libjulia build verified", C.inprocess_refusal())
    end
    withenv("JLC_FORCE_WORKER" => "1") do
        @test C.inprocess_refusal() == "JLC_FORCE_WORKER is set"
    end
    # The server's digest of the library selects the build only for the file this process loaded.
    base, path = C.libjulia_image()
    saved = (C.IMAGING_FLAG[], C.IMAGING_REFUSAL[])
    try
        C.IMAGING_FLAG[] = C_NULL; C.IMAGING_REFUSAL[] = nothing
        @test occursin("not a libjulia build verified", C.inprocess_refusal((path, "0"^64)))
        C.IMAGING_FLAG[] = C_NULL; C.IMAGING_REFUSAL[] = nothing
        @test C.inprocess_refusal(("/nonexistent/libjulia.so", "0"^64)) == saved[2]   # another file: hashed here
    finally
        C.IMAGING_FLAG[], C.IMAGING_REFUSAL[] = saved
    end
end
