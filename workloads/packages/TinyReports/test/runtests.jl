using TinyReports
using Test

const DATA = [Column("height", [1.62, 1.75, 1.80, 1.68, 1.71, 1.90, 1.55]),
              Column("weight", [61, 72, 80, 66, 70, 95, 52, 68, 71, 250])]

@testset "TinyReports" begin
    @testset "table" begin
        t = table(DATA)
        lines = split(t, '\n'; keepempty = false)
        @test length(lines) == 3
        @test startswith(lines[1], "column")
        @test occursin("height", lines[2]) && occursin("1.716", lines[2])
    end
    @testset "report" begin
        r = report(DATA)
        @test occursin("weight outliers: 250.00", r)
        @test !occursin("height outliers", r)
        @test occursin("height outliers", report(DATA; limit = 1.0))
    end
    @testset "columns" begin
        @test Column("x", [1, 2]).values == [1.0, 2.0]
        @test_throws MethodError Column("x", ["a"])
    end
end
