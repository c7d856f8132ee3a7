// The ELF reader and the object checks, on objects built by the system C compiler (a project dependency: the C
// loader is built with it), where each C construct produces a known relocation.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkObject, isAllowedExternal } from '../../server/src/codegen/checkObject.ts';
import { ElfError, readElf, SHN_UNDEF, STT_FUNC } from '../../server/src/codegen/elf.ts';
import { mergeObjects } from '../../server/src/codegen/mergeObjects.ts';

let dir: string;
function compile(name: string, source: string, flags: string[] = ['-fPIC', '-O2']): Buffer {
  const c = join(dir, `${name}.c`);
  writeFileSync(c, source);
  const o = join(dir, `${name}.o`);
  execFileSync('cc', ['-c', ...flags, '-fno-asynchronous-unwind-tables', '-o', o, c]);
  return readFileSync(o);
}

// Calls through the PLT, runtime data through the GOT, module data PC-relative: what LLVM emits for Julia code.
const GOOD = `
extern void jl_throw(void *);
extern char jl_true[];
static int table[4] = {1, 2, 3, 4};
int entry(int x) { if (x > 3) jl_throw(0); return table[x]; }
void *truth(void) { return jl_true; }
static const char *names[] = {"a", "b"};   /* R_X86_64_64 against a section: relocatable by RuntimeDyld */
const char *name(int i) { return names[i & 1]; }
`;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'jlc-elf-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('readElf', () => {
  test('reads sections, symbols and relocations of a real object', () => {
    const elf = readElf(compile('good', GOOD));
    assert.equal(elf.type, 1);
    assert.equal(elf.machine, 62);
    assert.ok(elf.sections.some((s) => s.name === '.text'));
    const entry = elf.symbols.find((s) => s.name === 'entry');
    assert.equal(entry?.type, STT_FUNC);
    assert.notEqual(entry?.shndx, SHN_UNDEF);
    assert.equal(elf.symbols.find((s) => s.name === 'jl_throw')?.shndx, SHN_UNDEF);
    const call = elf.relocations.find((r) => r.symbol.name === 'jl_throw');
    assert.equal(call?.type, 4 /* PLT32 */);
    assert.equal(call?.target.name, '.text');
  });

  test('rejects non-ELF, truncated and wrong-class input with ElfError', () => {
    const good = compile('good', GOOD);
    assert.throws(() => readElf(Buffer.from('not an object at all, just text')), ElfError);
    assert.throws(() => readElf(good.subarray(0, 40)), /ELF header/);
    assert.throws(() => readElf(good.subarray(0, good.length - 100)), ElfError);
    const elf32 = Buffer.from(good);
    elf32[4] = 1;
    assert.throws(() => readElf(elf32), /not ELF64/);
  });

  test('random corruption gives ElfError or a result, never another exception', () => {
    const good = compile('good', GOOD);
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let i = 0; i < 2000; i++) {
      const bad = Buffer.from(good);
      for (let k = 0; k < 1 + rand(8); k++) bad[rand(bad.length)] = rand(256);
      try {
        readElf(bad);
        checkObject(bad);
      } catch (e) {
        assert.ok(e instanceof ElfError, `iteration ${i}: ${(e as Error).stack}`);
      }
    }
  });
});

describe('checkObject', () => {
  test('accepts PLT calls, GOT loads, PC-relative and section-relative module data', () => {
    const r = checkObject(compile('good', GOOD));
    assert.deepEqual(r.violations, []);
    assert.deepEqual(r.undefinedSymbols, ['jl_throw', 'jl_true']);
    assert.ok(r.counts.byType.R_X86_64_PLT32 >= 1);
    assert.ok(r.counts.byType.R_X86_64_64 >= 1);
  });

  test('refuses an undefined symbol outside the runtime allow-list, naming it', () => {
    const r = checkObject(compile('evil', 'extern int evil_function(int); int f(int x) { return evil_function(x); }'));
    assert.equal(r.violations.length, 1);
    assert.match(r.violations[0], /undefined symbol evil_function is not from the Julia runtime/);
  });

  test('refuses undefined slots and entries, and unlowered Julia intrinsics', () => {
    const r = checkObject(compile('slots', 'extern void *jlgv_3; extern void jlentry_1_spec(void); void *f(void) { jlentry_1_spec(); return jlgv_3; }'));
    assert.ok(r.violations.some((v) => /undefined symbol jlgv_3: slots and entries must be defined/.test(v)), r.violations.join('\n'));
    assert.ok(r.violations.some((v) => /undefined symbol jlentry_1_spec/.test(v)));
  });

  test('refuses an absolute 64-bit relocation against an external symbol', () => {
    const r = checkObject(compile('abs64', 'extern char jl_true[]; void *p = jl_true;'));
    assert.equal(r.violations.length, 1);
    assert.match(r.violations[0], /^R_X86_64_64 in \.data[.a-z]* against undefined symbol jl_true: an absolute address of an external symbol baked into data$/);
  });

  test('refuses PC32 to an external symbol and absolute 32-bit relocations (non-PIC code)', () => {
    const src = 'extern int jl_n_threads; extern char jl_buf[]; int n(void) { return jl_n_threads; } long b(void) { return (long)jl_buf; }';
    const r = checkObject(compile('nopic', src, ['-fno-pic', '-O2', '-mcmodel=small']));
    assert.ok(r.violations.some((v) => v.startsWith('R_X86_64_PC32 in .text against undefined symbol jl_n_threads')), r.violations.join('\n'));
    assert.ok(r.violations.some((v) => /^R_X86_64_32S? in \.text against undefined symbol jl_buf: relocation type not allowed/.test(v)), r.violations.join('\n'));
  });

  test('refuses a shared library (not a relocatable object)', () => {
    compile('lib', 'int f(void) { return 1; }');
    execFileSync('cc', ['-shared', '-o', join(dir, 'lib.so'), join(dir, 'lib.o')]);
    assert.deepEqual(checkObject(readFileSync(join(dir, 'lib.so'))).violations, ['invalid ELF object: type 3 is not a relocatable object (ET_REL)']);
  });

  test('reports unreadable input as a violation instead of throwing', () => {
    assert.match(checkObject(Buffer.alloc(10)).violations[0], /invalid ELF object/);
  });

  test('finds inttoptr-baked addresses in the IR and names the function', () => {
    const ir = [
      'define void @julia_f_1() {',
      '  store %jl_value_t* inttoptr (i64 139872354566208 to %jl_value_t*), %jl_value_t** %x',
      '  %y = inttoptr i64 %z to i8*',
      '  store i8* inttoptr (i64 1 to i8*), i8** %w',
      '}',
      '@g = global i8* inttoptr (i64 -4096 to i8*)',
    ].join('\n');
    const r = checkObject(compile('good', GOOD), ir);
    assert.deepEqual(r.violations, [
      'baked absolute address 0x7f3692020040 (inttoptr constant) in function julia_f_1',
      'baked absolute address 0xfffffffffffff000 (inttoptr constant) in the initializer of @g',
    ]);
  });

  test('allow-list: runtime, libc/libm, compiler-rt helpers, plan imports; nothing else', () => {
    for (const n of ['jl_throw', 'ijl_box_int64', 'uv_write', '__sigsetjmp', 'memcpy', 'pow', 'fmod', '__divti3', '__gnu_h2f_ieee', '__truncdfhf2', '__powidf2', 'jlimport_0_spec', 'jlimport_17_spec']) {
      assert.ok(isAllowedExternal(n), n);
    }
    for (const n of ['system', 'execve', 'dlopen', 'julia.gc_alloc_obj', 'jl', 'jlgv_1', 'evil', 'jlimport_x_spec', 'jlimport_1_invoke']) assert.ok(!isAllowedExternal(n), n);
  });
});

// The parts of one module refer to each other by name (splitModule.ts); the joined object must be one a linker
// accepts as it would the parts: here the system linker links it into a program that runs.
describe('mergeObjects', () => {
  const PART_A = `
#include <stdio.h>
extern int counter; extern int twice(int); extern const char *label(void);
static int local_helper(int x) { return x + 1; }
int main(void) { counter += 2; printf("%d %s %d\\n", twice(local_helper(20)), label(), counter); return 0; }`;
  const PART_B = `
int counter = 40; static const char *names[] = {"forty", "two"};
int twice(int x) { return 2 * x; }
const char *label(void) { return names[counter & 1]; }`;

  test('joins two objects into one the system linker links, with the same behaviour', () => {
    const a = compile('part_a', PART_A, ['-fPIC', '-O1']);
    const b = compile('part_b', PART_B, ['-fPIC', '-O1']);
    const merged = mergeObjects([a, b]);
    const elf = readElf(merged);
    const defined = new Set(elf.symbols.filter((s) => s.shndx !== SHN_UNDEF).map((s) => s.name));
    for (const n of ['main', 'counter', 'twice', 'label']) assert.ok(defined.has(n), n);
    assert.ok(!elf.symbols.some((s) => s.shndx === SHN_UNDEF && ['counter', 'twice', 'label'].includes(s.name)), 'no reference left undefined');
    const o = join(dir, 'merged.o');
    writeFileSync(o, merged);
    const exe = join(dir, 'merged');
    execFileSync('cc', ['-o', exe, o]);
    assert.equal(execFileSync(exe, { encoding: 'utf8' }), '42 forty 42\n');
  });

  test('refuses a name defined in two parts', () => {
    const a = compile('dup_a', 'int f(void) { return 1; }');
    const b = compile('dup_b', 'int f(void) { return 2; }');
    assert.throws(() => mergeObjects([a, b]), /symbol f is defined in two parts/);
  });
});
