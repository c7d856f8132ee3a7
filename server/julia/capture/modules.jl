# The capture code, in dependency order: included by each module that captures or tests the capture (the agent
# package, the capture worker, test/julia/capture_test.jl), so the list has one owner. The includer provides
# `sha1` (SHA), Libdl and the internals (internals/julia-1.5.3.jl).
include(joinpath(@__DIR__, "records.jl"))
include(joinpath(@__DIR__, "constdigest.jl"))
include(joinpath(@__DIR__, "llvm.jl"))
include(joinpath(@__DIR__, "signatures.jl"))
include(joinpath(@__DIR__, "..", "loader", "planformat.jl"))
include(joinpath(@__DIR__, "describe.jl"))
include(joinpath(@__DIR__, "sysimage.jl"))
include(joinpath(@__DIR__, "..", "loader", "pkgdigest.jl"))
include(joinpath(@__DIR__, "reach.jl"))
include(joinpath(@__DIR__, "requires.jl"))
include(joinpath(@__DIR__, "capture.jl"))
