# Stdlib workload: LinearAlgebra.eigen on a fixed symmetric-free matrix (Base/stdlib specializations).
using LinearAlgebra

function main()
    A = [4.0 1.0 0.5 0.0; 1.0 3.0 0.25 0.1; 0.5 0.25 2.0 0.3; 0.0 0.1 0.3 1.0] .+ [0.0 0.2 0.0 0.0; 0.0 0.0 0.0 0.0; 0.0 0.0 0.0 0.0; 0.0 0.0 0.0 0.0]
    E = eigen(A)
    return round.(sort(real.(E.values)); digits = 8)
end
