# The few libLLVM-9 C API calls the worker needs (the module Julia's jl_create_native produced lives in this process).

llvm_name(v::Ptr{Cvoid}) = (n = Ref{Csize_t}(0); p = ccall((:LLVMGetValueName2, LIBLLVM_NAME), Ptr{UInt8}, (Ptr{Cvoid}, Ref{Csize_t}), v, n); unsafe_string(p, n[]))
llvm_setname!(v::Ptr{Cvoid}, s::String) = ccall((:LLVMSetValueName2, LIBLLVM_NAME), Cvoid, (Ptr{Cvoid}, Ptr{UInt8}, Csize_t), v, s, sizeof(s))
llvm_export!(v::Ptr{Cvoid}) = (ccall((:LLVMSetLinkage, LIBLLVM_NAME), Cvoid, (Ptr{Cvoid}, Cint), v, LLVM_EXTERNAL_LINKAGE);
                              ccall((:LLVMSetVisibility, LIBLLVM_NAME), Cvoid, (Ptr{Cvoid}, Cint), v, LLVM_DEFAULT_VISIBILITY))
llvm_isdecl(v::Ptr{Cvoid}) = ccall((:LLVMIsDeclaration, LIBLLVM_NAME), Cint, (Ptr{Cvoid},), v) != 0

function llvm_functions(mod::Ptr{Cvoid})
    out = Ptr{Cvoid}[]
    f = ccall((:LLVMGetFirstFunction, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), mod)
    while f != C_NULL
        push!(out, f)
        f = ccall((:LLVMGetNextFunction, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), f)
    end
    return out
end

# Functions whose code uses `v` (directly, or through constant expressions such as bitcasts).
function llvm_user_functions!(out::Set{Ptr{Cvoid}}, v::Ptr{Cvoid}, depth::Int = 0)
    u = ccall((:LLVMGetFirstUse, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), v)
    while u != C_NULL
        user = ccall((:LLVMGetUser, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), u)
        if ccall((:LLVMIsAInstruction, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), user) != C_NULL
            bb = ccall((:LLVMGetInstructionParent, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), user)
            push!(out, ccall((:LLVMGetBasicBlockParent, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), bb))
        elseif depth < 8 && ccall((:LLVMIsAConstantExpr, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), user) != C_NULL
            llvm_user_functions!(out, user, depth + 1)
        end
        u = ccall((:LLVMGetNextUse, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), u)
    end
    return out
end

function llvm_run_julia_passes!(mod::Ptr{Cvoid}, opt::Int)
    pm = ccall((:LLVMCreatePassManager, LIBLLVM_NAME), Ptr{Cvoid}, ())
    add_julia_passes(pm, opt)
    ccall((:LLVMRunPassManager, LIBLLVM_NAME), Cint, (Ptr{Cvoid}, Ptr{Cvoid}), pm, mod)
    ccall((:LLVMDisposePassManager, LIBLLVM_NAME), Cvoid, (Ptr{Cvoid},), pm)
end

llvm_write_bitcode(mod::Ptr{Cvoid}, path::String) =
    ccall((:LLVMWriteBitcodeToFile, LIBLLVM_NAME), Cint, (Ptr{Cvoid}, Cstring), mod, path) == 0 || error("cannot write bitcode to $path")

function llvm_globals(mod::Ptr{Cvoid})
    out = Ptr{Cvoid}[]
    g = ccall((:LLVMGetFirstGlobal, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), mod)
    while g != C_NULL
        push!(out, g)
        g = ccall((:LLVMGetNextGlobal, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), g)
    end
    return out
end

# Text of a constant string global (e.g. an error message codegen embedded), or "".
function llvm_string_global(g::Ptr{Cvoid})
    init = ccall((:LLVMGetInitializer, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), g)
    init == C_NULL && return ""
    ccall((:LLVMIsConstantString, LIBLLVM_NAME), Cint, (Ptr{Cvoid},), init) == 0 && return ""
    n = Ref{Csize_t}(0)
    p = ccall((:LLVMGetAsString, LIBLLVM_NAME), Ptr{UInt8}, (Ptr{Cvoid}, Ref{Csize_t}), init, n)
    return unsafe_string(p, n[])
end

has_uses(v::Ptr{Cvoid}) = ccall((:LLVMGetFirstUse, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), v) != C_NULL
llvm_delete_global!(g::Ptr{Cvoid}) = ccall((:LLVMDeleteGlobal, LIBLLVM_NAME), Cvoid, (Ptr{Cvoid},), g)
llvm_replace_uses!(old::Ptr{Cvoid}, new::Ptr{Cvoid}) = ccall((:LLVMReplaceAllUsesWith, LIBLLVM_NAME), Cvoid, (Ptr{Cvoid}, Ptr{Cvoid}), old, new)

"Replaces the function `f` by a declaration named `name` of the same type and calling convention; returns it."
function llvm_declaration!(mod::Ptr{Cvoid}, f::Ptr{Cvoid}, name::String)
    T = ccall((:LLVMGlobalGetValueType, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), f)
    d = ccall((:LLVMAddFunction, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid}, Cstring, Ptr{Cvoid}), mod, name, T)
    cc = ccall((:LLVMGetFunctionCallConv, LIBLLVM_NAME), Cuint, (Ptr{Cvoid},), f)
    ccall((:LLVMSetFunctionCallConv, LIBLLVM_NAME), Cvoid, (Ptr{Cvoid}, Cuint), d, cc)
    llvm_replace_uses!(f, d)
    llvm_delete_functions!([f])
    return d
end

"Deletes functions, bodies included; uses left (only from code deleted with them) become undef first."
function llvm_delete_functions!(fs)
    for f in fs
        undef = ccall((:LLVMGetUndef, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), ccall((:LLVMTypeOf, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), f))
        llvm_replace_uses!(f, undef)
    end
    foreach(f -> ccall((:LLVMDeleteFunction, LIBLLVM_NAME), Cvoid, (Ptr{Cvoid},), f), fs)
end

# Whether `v` is used other than by instructions (directly or through constant expressions), e.g. by a global's
# initializer: such a function must keep its body, whatever calls it.
function llvm_used_outside_code(v::Ptr{Cvoid}, depth::Int = 0)
    u = ccall((:LLVMGetFirstUse, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), v)
    while u != C_NULL
        user = ccall((:LLVMGetUser, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), u)
        if ccall((:LLVMIsAInstruction, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), user) == C_NULL
            ccall((:LLVMIsAConstantExpr, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), user) == C_NULL && return true
            (depth >= 8 || llvm_used_outside_code(user, depth + 1)) && return true
        end
        u = ccall((:LLVMGetNextUse, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid},), u)
    end
    return false
end
llvm_named_function(mod::Ptr{Cvoid}, name::String) = ccall((:LLVMGetNamedFunction, LIBLLVM_NAME), Ptr{Cvoid}, (Ptr{Cvoid}, Cstring), mod, name)
