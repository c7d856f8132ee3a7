/* plan.bin format numbers (PLAN-FORMAT.md): the one definition. The C loader (jlcache.c) includes this file and
 * the capture code (planformat.jl) reads its #define lines, so the writer and the reader cannot disagree; the
 * server's cache identity (sessionStore.ts) names PLAN_VERSION too. Change a number: bump PLAN_VERSION. */
#define PLAN_MAGIC "JLCPLAN" /* 8 bytes with its NUL */
#define PLAN_VERSION 3

/* Node ops: what a plan node rebuilds in the loading session (operands in PLAN-FORMAT.md). */
#define OP_SYM 0x01
#define OP_STR 0x02
#define OP_ROOTMOD 0x03
#define OP_GLOBAL 0x04
#define OP_BINDING 0x05
#define OP_APPLY 0x06
#define OP_TUPLETYPE 0x07
#define OP_UNION 0x08
#define OP_TYPEVAR 0x09
#define OP_UNIONALL 0x0a
#define OP_BITS 0x0b
#define OP_INSTANCE 0x0c
#define OP_MI 0x0d
#define OP_GENSYM 0x0e
#define OP_KWSORTER 0x0f
#define OP_CALL 0x10
#define OP_NEWSTRUCT 0x11
#define OP_TYPENAME 0x12
#define OP_SVEC 0x13
#define OP_METHOD 0x14
#define OP_TYPEOF 0x15
#define OP_METHODROOT 0x16
#define OP_FIELD 0x17
#define OP_CLOSURE 0x18
#define OP_LAST OP_CLOSURE

/* Entry kinds: how an installed method is called (invoke / specptr). */
#define ENTRY_SPECSIG 0x00
#define ENTRY_FPTR_ARGS 0x01
#define ENTRY_FPTR_SPARAM 0x02
