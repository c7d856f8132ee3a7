// The LLVM-9 C API functions the codegen child uses, bound through koffi against Julia's own libLLVM (one LLVM
// version for capture and emission). Every signature lives here; nothing else in the project declares LLVM calls.
// koffi 3 passes pointers as bigint (null for NULL); `_Out_ void**` parameters are written into a one-slot array.
import koffi, { type LibraryHandle } from 'koffi';

export type Ptr = bigint;
export type OutPtr = [Ptr | null];

/** LLVMCodeGenOptLevel */
export const CodeGenOpt = { None: 0, Less: 1, Default: 2, Aggressive: 3 } as const;
/** LLVMRelocMode */
export const RelocMode = { PIC: 2 } as const;
/** LLVMCodeModel (LLVM 9 order: Default, JITDefault, Tiny, Small, Kernel, Medium, Large) */
export const CodeModel = { Small: 3 } as const;
/** LLVMCodeGenFileType */
export const FileType = { Object: 1 } as const;
/** LLVMVerifierFailureAction: report through the message, never abort */
export const VerifierAction = { ReturnStatus: 2 } as const;
/** LLVMLinkage (LLVM 9 order) */
export const Linkage = { External: 0, AvailableExternally: 1, Appending: 6, Internal: 8, Private: 9 } as const;
/** LLVMVisibility */
export const Visibility = { Hidden: 1 } as const;
/** LLVMDiagnosticSeverity */
export const DiagSeverity = { Error: 0, Warning: 1, Remark: 2, Note: 3 } as const;

const DIAG_HANDLER = koffi.proto('void LLVMDiagnosticHandler(void* info, void* ctx)');

function bind(lib: LibraryHandle) {
  const f = (sig: string) => lib.func(sig);
  return {
    initX86: ['TargetInfo', 'Target', 'TargetMC', 'AsmPrinter', 'AsmParser'].map((n) => f(`void LLVMInitializeX86${n}()`)) as (() => void)[],
    disposeMessage: f('void LLVMDisposeMessage(void* msg)') as (p: Ptr) => void,

    contextCreate: f('void* LLVMContextCreate()') as () => Ptr,
    contextDispose: f('void LLVMContextDispose(void* ctx)') as (c: Ptr) => void,
    contextSetDiagnosticHandler: f('void LLVMContextSetDiagnosticHandler(void* ctx, LLVMDiagnosticHandler* h, void* hctx)') as (
      c: Ptr, h: Ptr, hctx: null) => void,
    diagDescription: f('void* LLVMGetDiagInfoDescription(void* info)') as (d: Ptr) => Ptr,
    diagSeverity: f('int LLVMGetDiagInfoSeverity(void* info)') as (d: Ptr) => number,

    bufferCopy: f('void* LLVMCreateMemoryBufferWithMemoryRangeCopy(const uint8_t* data, size_t len, const char* name)') as (
      data: Uint8Array, len: number, name: string) => Ptr,
    bufferStart: f('void* LLVMGetBufferStart(void* buf)') as (b: Ptr) => Ptr,
    bufferSize: f('size_t LLVMGetBufferSize(void* buf)') as (b: Ptr) => number | bigint,
    bufferDispose: f('void LLVMDisposeMemoryBuffer(void* buf)') as (b: Ptr) => void,

    // The non-"2" variant returns the reader's error text; the "2" variant routes it to the context instead.
    parseBitcode: f('int LLVMParseBitcodeInContext(void* ctx, void* buf, _Out_ void** mod, _Out_ void** msg)') as (
      c: Ptr, b: Ptr, mod: OutPtr, msg: OutPtr) => number,
    verifyModule: f('int LLVMVerifyModule(void* mod, int action, _Out_ void** msg)') as (m: Ptr, a: number, msg: OutPtr) => number,
    moduleDispose: f('void LLVMDisposeModule(void* mod)') as (m: Ptr) => void,
    stripDebugInfo: f('int LLVMStripModuleDebugInfo(void* mod)') as (m: Ptr) => number,
    printModule: f('void* LLVMPrintModuleToString(void* mod)') as (m: Ptr) => Ptr,
    firstFunction: f('void* LLVMGetFirstFunction(void* mod)') as (m: Ptr) => Ptr | null,
    nextFunction: f('void* LLVMGetNextFunction(void* fn)') as (fn: Ptr) => Ptr | null,
    firstGlobal: f('void* LLVMGetFirstGlobal(void* mod)') as (m: Ptr) => Ptr | null,
    nextGlobal: f('void* LLVMGetNextGlobal(void* g)') as (g: Ptr) => Ptr | null,
    firstAlias: f('void* LLVMGetFirstGlobalAlias(void* mod)') as (m: Ptr) => Ptr | null,
    firstIFunc: f('void* LLVMGetFirstGlobalIFunc(void* mod)') as (m: Ptr) => Ptr | null,
    firstBlock: f('void* LLVMGetFirstBasicBlock(void* fn)') as (fn: Ptr) => Ptr | null,
    nextBlock: f('void* LLVMGetNextBasicBlock(void* bb)') as (bb: Ptr) => Ptr | null,
    firstInstruction: f('void* LLVMGetFirstInstruction(void* bb)') as (bb: Ptr) => Ptr | null,
    nextInstruction: f('void* LLVMGetNextInstruction(void* inst)') as (i: Ptr) => Ptr | null,
    isDeclaration: f('int LLVMIsDeclaration(void* global)') as (g: Ptr) => number,
    getLinkage: f('int LLVMGetLinkage(void* global)') as (g: Ptr) => number,
    setLinkage: f('void LLVMSetLinkage(void* global, int linkage)') as (g: Ptr, l: number) => void,
    setVisibility: f('void LLVMSetVisibility(void* global, int visibility)') as (g: Ptr, v: number) => void,
    valueName: f('const char* LLVMGetValueName2(void* value, _Out_ size_t* len)') as (v: Ptr, len: [number | bigint]) => string | null,
    setValueName: f('void LLVMSetValueName2(void* value, const char* name, size_t len)') as (v: Ptr, name: string, len: number) => void,
    // A null initializer turns a global variable definition into a declaration.
    setInitializer: f('void LLVMSetInitializer(void* global, void* value)') as (g: Ptr, v: null) => void,
    deleteGlobal: f('void LLVMDeleteGlobal(void* global)') as (g: Ptr) => void,
    setTarget: f('void LLVMSetTarget(void* mod, const char* triple)') as (m: Ptr, t: string) => void,
    setDataLayout: f('void LLVMSetModuleDataLayout(void* mod, void* dl)') as (m: Ptr, dl: Ptr) => void,

    targetFromTriple: f('int LLVMGetTargetFromTriple(const char* triple, _Out_ void** target, _Out_ void** msg)') as (
      t: string, target: OutPtr, msg: OutPtr) => number,
    createTargetMachine: f('void* LLVMCreateTargetMachine(void* target, const char* triple, const char* cpu, const char* features, int opt, int reloc, int model)') as (
      target: Ptr, triple: string, cpu: string, features: string, opt: number, reloc: number, model: number) => Ptr | null,
    targetMachineDispose: f('void LLVMDisposeTargetMachine(void* tm)') as (tm: Ptr) => void,
    createDataLayout: f('void* LLVMCreateTargetDataLayout(void* tm)') as (tm: Ptr) => Ptr,
    dataLayoutDispose: f('void LLVMDisposeTargetData(void* dl)') as (dl: Ptr) => void,
    emitToMemory: f('int LLVMTargetMachineEmitToMemoryBuffer(void* tm, void* mod, int type, _Out_ void** msg, _Out_ void** buf)') as (
      tm: Ptr, m: Ptr, type: number, msg: OutPtr, buf: OutPtr) => number,
  };
}

export type Llvm = ReturnType<typeof bind> & {
  /** Reads and frees an LLVM-allocated message (NULL -> ''). */
  takeMessage(p: Ptr | null): string;
  /** Copies an LLVM memory buffer into a Node Buffer. */
  bufferBytes(b: Ptr): Buffer;
  /** Registers a diagnostic handler (JS callback) for a context; returns the handle to pass to LLVM. */
  diagnosticHandler(fn: (severity: number, message: string) => void): Ptr;
  /** parseBitcode and emitToMemory on one of koffi's worker threads: modules of separate contexts run at once. */
  parseBitcodeAsync(...args: Parameters<ReturnType<typeof bind>['parseBitcode']>): Promise<number>;
  emitToMemoryAsync(...args: Parameters<ReturnType<typeof bind>['emitToMemory']>): Promise<number>;
};

/** The worker threads' stacks: LLVM's code generation recurses deeply; koffi's default for async calls is 128 KiB
 * (synchronous calls get 2 MiB), so they get what the main thread's calls get and more. */
const ASYNC_STACK = 8 << 20;

function onWorker<A extends unknown[]>(fn: unknown): (...args: A) => Promise<number> {
  const f = fn as { async: (...args: [...A, (err: unknown, rc: number) => void]) => void };
  return (...args) => new Promise((resolve, reject) => f.async(...args, (err, rc) => (err ? reject(err) : resolve(rc))));
}

let loaded: { path: string; llvm: Llvm } | undefined;

/** Loads libLLVM once per process and initialises the X86 target, including the AsmParser (Julia's IR contains
 * inline asm; without the parser LLVM aborts with "Inline asm not supported by this streamer"). */
export function loadLlvm(path: string): Llvm {
  if (loaded) {
    if (loaded.path !== path) throw new Error(`libLLVM already loaded from ${loaded.path}, not ${path}`);
    return loaded.llvm;
  }
  koffi.config({ ...koffi.config(), async_stack_size: ASYNC_STACK });
  const api = bind(koffi.load(path));
  for (const init of api.initX86) init();
  const llvm: Llvm = {
    ...api,
    takeMessage(p) {
      if (p === null || p === 0n) return '';
      const s = koffi.decode(p, 'char', -1) as string;
      api.disposeMessage(p);
      return s;
    },
    bufferBytes(b) {
      const n = Number(api.bufferSize(b));
      return Buffer.from(new Uint8Array(koffi.view(api.bufferStart(b), n)));
    },
    parseBitcodeAsync: onWorker(api.parseBitcode),
    emitToMemoryAsync: onWorker(api.emitToMemory),
    diagnosticHandler(fn) {
      return koffi.register((info: Ptr) => {
        const p = api.diagDescription(info);
        fn(api.diagSeverity(info), llvm.takeMessage(p));
      }, koffi.pointer(DIAG_HANDLER));
    },
  };
  loaded = { path, llvm };
  return llvm;
}
