# plan.bin format numbers: defined once, in planformat.h (which the C loader includes), and read from there.
const PLAN_HEADER = joinpath(@__DIR__, "planformat.h")
include_dependency(PLAN_HEADER)

"The header's `#define NAME number` lines: PLAN_VERSION as a UInt32, the op and entry-kind codes as UInt8."
function plan_defines(text::String)
    defs = Dict{Symbol,Any}()
    for m in eachmatch(r"^#define (PLAN_VERSION|OP_[A-Z]+|ENTRY_[A-Z_]+) (0x[0-9a-f]+|\d+)$"m, text)
        T = m[1] == "PLAN_VERSION" ? UInt32 : UInt8
        defs[Symbol(m[1])] = T(parse(Int, m[2]))
    end
    return defs
end

const PLAN_MAGIC = let m = match(r"^#define PLAN_MAGIC \"(\w+)\""m, read(PLAN_HEADER, String))
    [codeunits(m[1]); 0x00]
end

for (name, value) in plan_defines(read(PLAN_HEADER, String))
    @eval const $name = $value
end
