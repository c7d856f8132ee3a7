# libjulia builds whose codegen flag `imaging_mode` (a non-exported C++ global of src/codegen.cpp) has been located
# and verified by hand, so that a live session can capture its own code as relocatable objects (capture/imaging.jl).
# Every fact below is re-checked at run time before one byte is written; a build not in this table is refused and
# Save Compiled Work uses the capture worker instead (capture/worker.jl).
#
# Per build: the file's sha256; offsets from the library base of three exported symbols (checked against dlsym);
# the offset of `imaging_mode`; and anchor instructions that address it RIP-relatively: (offset, opcode bytes,
# offset of the disp32 inside the instruction, instruction length). Each anchor's displacement must resolve to
# `imaging_mode`, and the byte there must hold 0 or 1.

struct VerifiedBuild
    name::String
    sha256::String
    exported::Vector{Pair{Symbol,UInt}}
    imaging_mode::UInt
    anchors::Vector{Tuple{UInt,Vector{UInt8},Int,Int}}
end

const VERIFIED_BUILDS = VerifiedBuild[
    VerifiedBuild(
        "Debian libjulia1 1.5.3+dfsg-3 (x86_64)",
        "27e49f0b22a45fbb17ce8a3dfdbaa94177a3f5660bdf10e1123d88a1cd7426dd",
        [:jl_create_native => 0x1383b0, :jl_get_LLVM_VERSION => 0x487c0, :jl_LLVMContext => 0x281b88],
        0x281b90,   # = jl_LLVMContext + 8, in .bss
        [(0x4f972, UInt8[0x88, 0x05], 2, 6),   # jl_init_llvm: mov %al, imaging_mode (its only writer)
         (0x487a0, UInt8[0x80, 0x3d], 2, 7),   # cmpb $0, imaging_mode (helper before jl_get_LLVM_VERSION)
         (0x82bda, UInt8[0x80, 0x3d], 2, 7),   # emit_ccall: guards "literal address used in ccall"
         (0x8834e, UInt8[0x80, 0x3d], 2, 7)],  # emit_cglobal: guards "literal address used in cglobal"
    ),
]
