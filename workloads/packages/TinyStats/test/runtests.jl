using TinyStats
using Test

@testset "TinyStats" begin
    @testset "mean and variance" begin
        @test mean([1, 2, 3, 4]) == 2.5
        @test mean(1:10) == 5.5
        @test variance([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) ≈ 4.571428571428571
        @test_throws ArgumentError mean(Int[])
        @test_throws ArgumentError variance([1.0])
    end
    @testset "median" begin
        @test median([3, 1, 2]) == 2.0
        @test median([4, 1, 3, 2]) == 2.5
        @test median(Float32[1, 2, 3]) == 2.0
    end
    @testset "histogram" begin
        h = histogram([1.0, 1.5, 2.2, 3.9, 4.0], 1.0)
        @test h == [(1.0, 2), (2.0, 1), (3.0, 1), (4.0, 1)]
        @test_throws ArgumentError histogram([1.0], 0)
    end
    @testset "summarize" begin
        s = summarize([1, 2, 3, 4, 5])
        @test s isa Summary{Int}
        @test (s.n, s.min, s.max, s.median) == (5, 1, 5, 3.0)
        @test sprint(show, s) == "Summary(n=5, mean=3.0, sd=1.581)"
        @test summarize(Float32[1, 2]).max === 2.0f0
        @test zscores([1.0, 2.0, 3.0]) ≈ [-1.0, 0.0, 1.0]
    end
end
