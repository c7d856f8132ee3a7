// Checks an emitted object before it may enter the cache: the loader links it (server/julia/loader/elflink.c, which
// applies exactly the relocations below and refuses anything else; they were RuntimeDyld's rules) into a running
// Julia session, so anything that would be patched wrongly, resolve to the wrong thing, or carry an address from
// the capture process must be refused here, with the offending names.
//
// Relocations — only in sections RuntimeDyld loads (SHF_ALLOC, plus .eh_frame); DWARF sections are not loaded:
//   R_X86_64_PLT32                       calls; RuntimeDyld makes a stub for external targets, so any range works
//   R_X86_64_GOTPCREL / (REX_)GOTPCRELX  external data through a GOT entry RuntimeDyld fills with a full address
//   R_X86_64_PC32                        only to this object's own sections/symbols: against an undefined symbol the
//                                        32-bit displacement to libjulia may not reach the JIT memory (silent
//                                        truncation in release RuntimeDyld)
//   R_X86_64_64                          only against section symbols or symbols defined here (RuntimeDyld adds the
//                                        load address); against an undefined symbol it would bind a runtime address
//                                        into data outside the GOT/stub machinery Julia's loader controls
// Anything else (R_X86_64_32/32S: absolute 32-bit, needs a low load address; TLS models; COPY/GLOB_DAT...) is refused.
//
// Undefined symbols must come from the Julia runtime (libjulia, which also exports libuv), libc/libm, or the
// compiler runtime helpers LLVM calls for Int128/Float16 arithmetic; slots (jlgv_*) and entries (jlentry_*)
// must be defined in the object itself; imports (jlimport_<n>_spec) are the plan's, which the loader links to the
// system image's code. A `julia.*`/`llvm.*` name means Julia's lowering passes did not run.
//
// Baked addresses: a pointer constant from the capture process (e.g. a `Ptr` value Julia folded into the code)
// carries no relocation and is invisible in the object, so the module's IR is scanned for `inttoptr` of an integer
// constant. Values below 4096 are never mapped and are used as sentinels, so they are allowed.
import { EM_X86_64, readElf, SHN_UNDEF, STT_SECTION, type ElfObject, type ElfRelocation, type ElfSection } from './elf.ts';

export const R_X86_64 = {
  NONE: 0, '64': 1, PC32: 2, GOT32: 3, PLT32: 4, COPY: 5, GLOB_DAT: 6, JUMP_SLOT: 7, RELATIVE: 8, GOTPCREL: 9,
  '32': 10, '32S': 11, '16': 12, PC16: 13, '8': 14, PC8: 15, DTPMOD64: 16, DTPOFF64: 17, TPOFF64: 18, TLSGD: 19,
  TLSLD: 20, DTPOFF32: 21, GOTTPOFF: 22, TPOFF32: 23, PC64: 24, GOTOFF64: 25, GOTPC32: 26, SIZE32: 32, SIZE64: 33,
  GOTPCRELX: 41, REX_GOTPCRELX: 42,
} as const;
const RELOC_NAMES = new Map<number, string>(Object.entries(R_X86_64).map(([k, v]) => [v, `R_X86_64_${k}`]));
export const relocName = (t: number) => RELOC_NAMES.get(t) ?? `relocation type ${t}`;

/** libc/libm functions LLVM or Julia's codegen call by name. */
const LIBC_LIBM = new Set([
  '__sigsetjmp', 'sigsetjmp', 'setjmp', 'longjmp', 'siglongjmp', 'memcpy', 'memmove', 'memset', 'memcmp', 'memchr',
  'strlen', 'abort', 'malloc', 'calloc', 'realloc', 'free', 'posix_memalign', '__stack_chk_fail',
  'fmod', 'fmodf', 'pow', 'powf', 'exp', 'expf', 'exp2', 'exp2f', 'exp10', 'exp10f', 'log', 'logf', 'log2', 'log2f',
  'log10', 'log10f', 'sin', 'sinf', 'cos', 'cosf', 'tan', 'tanf', 'sqrt', 'sqrtf', 'fma', 'fmaf', 'floor', 'floorf',
  'ceil', 'ceilf', 'trunc', 'truncf', 'round', 'roundf', 'rint', 'rintf', 'nearbyint', 'nearbyintf', 'fabs', 'fabsf',
  'copysign', 'copysignf', 'fmin', 'fminf', 'fmax', 'fmaxf', 'ldexp', 'ldexpf', 'frexp', 'frexpf', 'lround', 'llround',
]);
/** The Julia runtime's exports (jl_*, ijl_* in later builds, libuv bundled into libjulia). */
const RUNTIME = /^(jl_|ijl_|uv_)[A-Za-z0-9_]+$/;
/** Compiler-rt/libgcc helpers: Int128 division/multiplication, Float16 conversion, powi, Int128<->float. */
const COMPILER_RT = /^__(u?(div|mod)ti3|multi3|muloti4|powi[sdx]f2|gnu_(h2f|f2h)_ieee|(extend|trunc)[a-z]f[a-z]f2|fix(uns)?[sdx]fti|float(un)?ti[sdx]f)$/;

/** Callees the system image holds, named by the plan's import table (PLAN-FORMAT.md). */
const IMPORT = /^jlimport_\d+_spec$/;

export function isAllowedExternal(name: string): boolean {
  return RUNTIME.test(name) || LIBC_LIBM.has(name) || COMPILER_RT.test(name) || IMPORT.test(name);
}

export interface CheckResult {
  /** undefined symbols that relocations use (the loader must resolve them), sorted */
  undefinedSymbols: string[];
  /** empty when the object may be cached */
  violations: string[];
  counts: { relocations: number; byType: Record<string, number> };
}

const SHF_ALLOC = 2n;
const loaded = (s: ElfSection) => (s.flags & SHF_ALLOC) !== 0n || s.name === '.eh_frame';

/** `checkObject(bytes, irText)`: the object, and the module's IR as it went into code generation. */
export function checkObject(bytes: Uint8Array, irText?: string): CheckResult {
  let elf: ElfObject;
  try {
    elf = readElf(bytes);
  } catch (e) {
    return { undefinedSymbols: [], violations: [(e as Error).message], counts: { relocations: 0, byType: {} } };
  }
  const violations: string[] = [];
  if (elf.machine !== EM_X86_64) violations.push(`ELF machine ${elf.machine} is not x86-64`);

  // Only undefined symbols some relocation uses are resolved at link time (a compiler may list others, e.g. gcc's
  // _GLOBAL_OFFSET_TABLE_), so those are the ones that must be allowed and that the loader must provide.
  const undefinedSymbols = [...new Set(elf.relocations.filter((r) => r.symbol.shndx === SHN_UNDEF && r.symbol.name !== '').map((r) => r.symbol.name))].sort();
  for (const name of undefinedSymbols) {
    if (isAllowedExternal(name)) continue;
    if (/^(jlgv_|jlentry_)/.test(name)) violations.push(`undefined symbol ${name}: slots and entries must be defined in the object`);
    else if (/^(julia\.|llvm\.)/.test(name)) violations.push(`undefined symbol ${name}: an intrinsic Julia's lowering passes should have removed`);
    else violations.push(`undefined symbol ${name} is not from the Julia runtime, libc/libm or the compiler runtime`);
  }

  const byType: Record<string, number> = {};
  const bad = new Map<string, number>(); // one line per (reason), with a count, so a bad module does not print 10k lines
  for (const r of elf.relocations) {
    byType[relocName(r.type)] = (byType[relocName(r.type)] ?? 0) + 1;
    if (!loaded(r.target)) continue;
    const why = relocationProblem(r);
    if (why) bad.set(why, (bad.get(why) ?? 0) + 1);
  }
  for (const [why, n] of bad) violations.push(n > 1 ? `${why} (${n} times)` : why);
  if (irText !== undefined) violations.push(...findBakedAddresses(irText));
  return { undefinedSymbols, violations, counts: { relocations: elf.relocations.length, byType } };
}

function relocationProblem(r: ElfRelocation): string | undefined {
  const undef = r.symbol.shndx === SHN_UNDEF;
  const what = `${relocName(r.type)} in ${r.target.name} against ${r.symbol.type === STT_SECTION ? 'a section' : `${undef ? 'undefined ' : ''}symbol ${r.symbol.name}`}`;
  switch (r.type) {
    case R_X86_64.PLT32:
    case R_X86_64.GOTPCREL:
    case R_X86_64.GOTPCRELX:
    case R_X86_64.REX_GOTPCRELX:
      return undefined;
    case R_X86_64.PC32:
      return undef ? `${what}: a 32-bit PC-relative reference to an external symbol may not reach it` : undefined;
    case R_X86_64['64']:
      return undef ? `${what}: an absolute address of an external symbol baked into data` : undefined;
    default:
      return `${what}: relocation type not allowed`;
  }
}

const INTTOPTR_CONST = /inttoptr \(?i(?:64|32) (-?\d+) to /g;
const MIN_ADDRESS = 4096n;

/** One violation per baked address, naming the function (or global) whose IR contains it. */
export function findBakedAddresses(irText: string): string[] {
  const found: string[] = [];
  for (const m of irText.matchAll(INTTOPTR_CONST)) {
    const v = BigInt(m[1]);
    if ((v < 0n ? -v : v) < MIN_ADDRESS) continue;
    found.push(`baked absolute address 0x${BigInt.asUintN(64, v).toString(16)} (inttoptr constant) in ${ownerOf(irText, m.index)}`);
  }
  return found;
}

function ownerOf(irText: string, at: number): string {
  const lineStart = irText.lastIndexOf('\n', at) + 1;
  const global = /^(@[^\s=]+) =/.exec(irText.slice(lineStart, lineStart + 300));
  if (global) return `the initializer of ${global[1]}`;
  const def = irText.startsWith('define ') ? Math.max(0, irText.lastIndexOf('\ndefine ', at)) : irText.lastIndexOf('\ndefine ', at);
  const name = def >= 0 ? /@("[^"]+"|[^\s(]+)\(/.exec(irText.slice(def, def + 2000))?.[1] : undefined;
  return name ? `function ${name}` : 'the module';
}
