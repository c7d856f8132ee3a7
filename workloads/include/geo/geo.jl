# Included into `module Geo` by nested.jl; includes its parts, relative to this file.
export Circle, Rect, total_area, describe
include("shapes.jl")
include("measure.jl")
