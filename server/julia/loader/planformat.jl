# plan.bin format constants, shared by the capture worker (writer) and documented in PLAN-FORMAT.md.
# The C loader (jlcache.c) has the same numbers; change both together and bump PLAN_VERSION.
const PLAN_MAGIC = b"JLCPLAN\0"
const PLAN_VERSION = UInt32(1)

const OP_SYM = 0x01        # payload: bytes                      -> Symbol
const OP_STR = 0x02        # bytes                               -> String
const OP_ROOTMOD = 0x03    # bytes (name)                        -> a loaded top-level module
const OP_GLOBAL = 0x04     # ref module, ref symbol              -> value of an existing global
const OP_BINDING = 0x05    # ref module, ref symbol              -> jl_binding_t* (slot of a global variable)
const OP_APPLY = 0x06      # ref base, ref params...             -> base{params...}
const OP_TUPLETYPE = 0x07  # ref params...                       -> Tuple{params...}
const OP_UNION = 0x08      # ref members...                      -> Union{members...}
const OP_TYPEVAR = 0x09    # ref name, ref lb, ref ub            -> TypeVar
const OP_UNIONALL = 0x0a   # ref typevar, ref body               -> UnionAll
const OP_BITS = 0x0b       # ref type, raw bytes                 -> isbits value
const OP_INSTANCE = 0x0c   # ref type                            -> the singleton instance of a type
const OP_MI = 0x0d         # ref signature                       -> MethodInstance
const OP_GENSYM = 0x0e     # ref module, ref file, u32 line, u32 ordinal, u32 count, u32 nfields -> closure/gensym type
const OP_KWSORTER = 0x0f   # ref function type                   -> the type of its keyword sorter
const OP_CALL = 0x10       # ref function, ref args...           -> f(args...) (objects that must be re-created)
const OP_NEWSTRUCT = 0x11  # ref type, ref fields...             -> immutable struct value
const OP_TYPENAME = 0x12   # ref type                            -> its TypeName
const OP_SVEC = 0x13       # ref elements...                     -> SimpleVector
const OP_METHOD = 0x14     # ref signature                       -> Method
const OP_TYPEOF = 0x15     # ref value                           -> typeof(value)
const OP_METHODROOT = 0x16 # ref method, ref type, u32 index     -> method.roots[index] (checked to be of that type)
const OP_FIELD = 0x17      # ref value, ref type, u32 index      -> field index (0-based) of an immutable value (checked type)
const OP_CLOSURE = 0x18    # ref method, u32 ordinal, u32 nfields -> closure/keyword-body type a method's lowered code names

const ENTRY_SPECSIG = 0x00      # invoke = jlentry_<k>_invoke wrapper, specptr = jlentry_<k>_spec
const ENTRY_FPTR_ARGS = 0x01    # invoke = jl_fptr_args, specptr = jlentry_<k>_spec
const ENTRY_FPTR_SPARAM = 0x02  # invoke = jl_fptr_sparam, specptr = jlentry_<k>_spec
