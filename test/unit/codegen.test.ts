// The codegen child end to end on real bitcode from Julia 1.5.3 (generated at test time by
// test/fixtures/codegen/make-bitcode.jl), through runCodegen: success, refused objects, bad input, crashes.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkObject } from '../../server/src/codegen/checkObject.ts';
import { readElf, SHN_UNDEF, STB_LOCAL } from '../../server/src/codegen/elf.ts';
import { findLibLLVM } from '../../server/src/codegen/findLibLLVM.ts';
import { CodegenError, runCodegen } from '../../server/src/codegen/runCodegen.ts';
import { repoRoot } from '../../server/src/util/repoRoot.ts';
import { makeBitcode } from '../fixtures/codegen/makeBitcode.ts';
import { processesMatching } from '../helpers/wait.ts';

// Julia's own CPU target here (jl_dump_host_cpu says `generic` + these features); any valid pair would do.
const CPU = { cpu: 'generic', features: 'sse3, pclmul, ssse3, fma, cx16, sse4.1, sse4.2, movbe, popcnt, avx, f16c, bmi, avx2, bmi2' };

let dir: string;
let small: string;

async function codegenError(p: Promise<unknown>): Promise<CodegenError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CodegenError, `expected a CodegenError, got ${(e as Error).stack}`);
    return e;
  }
  assert.fail('expected codegen to fail');
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'jlc-codegen-'));
  small = makeBitcode(dir, 'small');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('runCodegen', () => {
  test("finds the libLLVM Julia links", () => {
    assert.match(findLibLLVM(), /libLLVM-9(jl)?\.so/);
  });

  test('emits a checked relocatable object from real lowered bitcode', async () => {
    const object = join(dir, 'small.o');
    const r = await runCodegen({ bitcode: small, object, ...CPU });
    assert.equal(r.ok, true);
    assert.ok(r.functions > 4, `functions ${r.functions}`);
    assert.equal(r.bytes, readFileSync(object).length);
    // written atomically: no temporary left beside it
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    // the runtime calls Julia code needs, and nothing undefined that is ours
    for (const s of ['jl_throw', 'jl_gc_pool_alloc', '__sigsetjmp']) assert.ok(r.undefinedSymbols.includes(s), `${s} in ${r.undefinedSymbols}`);
    const elf = readElf(readFileSync(object));
    const defined = new Set(elf.symbols.filter((s) => s.shndx !== SHN_UNDEF).map((s) => s.name));
    for (const s of ['jlentry_1_spec', 'jlentry_2_spec', 'jlentry_3_invoke', 'jlentry_4_spec', 'jlgv_1']) assert.ok(defined.has(s), `${s} defined`);
    assert.ok(!elf.sections.some((s) => s.name.startsWith('.debug')), 'debug info stripped');
    assert.ok(elf.sections.some((s) => s.name === '.eh_frame'), 'unwind info kept');
    // the parent-side check agrees with the child's
    const again = checkObject(readFileSync(object));
    assert.deepEqual(again.violations, []);
    assert.deepEqual(again.undefinedSymbols, r.undefinedSymbols);
    assert.ok(r.ms > 0 && r.timings.emit > 0);
  });

  test("refuses an object with an external data reference and a baked address, naming them, and writes nothing", async () => {
    const bad = makeBitcode(dir, 'bad', { bad: true });
    const object = join(dir, 'bad.o');
    const e = await codegenError(runCodegen({ bitcode: bad, object, ...CPU }));
    assert.equal(e.kind, 'failed');
    assert.equal(e.details.stage, 'check');
    assert.deepEqual(e.details.violations, [
      'undefined symbol evil_data is not from the Julia runtime, libc/libm or the compiler runtime',
      'R_X86_64_64 in .data against undefined symbol evil_data: an absolute address of an external symbol baked into data',
      'baked absolute address 0x7f0012345678 (inttoptr constant) in the initializer of @bad_baked',
    ]);
    assert.match(e.message, /evil_data/);
    assert.equal(existsSync(object), false);
  });

  test('corrupted bitcode is a clean parse error', async () => {
    const bytes = readFileSync(small);
    const truncated = join(dir, 'truncated.bc');
    writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    const garbage = join(dir, 'garbage.bc');
    writeFileSync(garbage, Buffer.from('BC\xc0\xde this is not bitcode at all'.repeat(50), 'latin1'));
    const flipped = join(dir, 'flipped.bc');
    const f = Buffer.from(bytes);
    for (let i = 64; i < f.length; i += 97) f[i] ^= 0x5a;
    writeFileSync(flipped, f);
    for (const bitcode of [truncated, garbage, flipped]) {
      const e = await codegenError(runCodegen({ bitcode, object: join(dir, 'x.o'), ...CPU }));
      // LLVM 9's bitcode reader calls report_fatal_error on some corrupt streams (e.g. "Invalid abbrev number"),
      // which ends the child: that must arrive as a typed crash carrying LLVM's message, never take the parent down.
      if (bitcode === flipped && e.kind === 'crashed') {
        assert.match(e.message, /LLVM ERROR/, `${bitcode}: ${e.message}`);
        continue;
      }
      assert.equal(e.kind, 'failed', `${bitcode}: ${e.message}`);
      assert.ok(['parse', 'verify'].includes(e.details.stage ?? ''), `${bitcode}: ${e.message}`);
    }
    assert.equal(existsSync(join(dir, 'x.o')), false);
  });

  test('bad requests and missing files are reported with their stage', async () => {
    let e = await codegenError(runCodegen({ bitcode: join(dir, 'missing.bc'), object: join(dir, 'm.o'), ...CPU }));
    assert.equal(e.details.stage, 'io');
    assert.match(e.message, /missing\.bc/);
    e = await codegenError(runCodegen({ bitcode: small, object: join(dir, 'm.o'), cpu: '', features: '' }));
    assert.equal(e.details.stage, 'request');
    e = await codegenError(runCodegen({ bitcode: small, object: join(dir, 'no-such-dir', 'm.o'), ...CPU }));
    assert.equal(e.details.stage, 'io');
    e = await codegenError(runCodegen({ bitcode: small, object: join(dir, 'm.o'), ...CPU, libLLVM: join(dir, 'libLLVM-nothing.so') }));
    assert.equal(e.details.stage, 'load');
  });

  test('a child that aborts (as LLVM does on a fatal error) is a typed error', async () => {
    const e = await codegenError(runCodegen({ bitcode: small, object: join(dir, 'a.o'), ...CPU }, {
      childCommand: [process.execPath, '-e', 'process.stderr.write("LLVM ERROR: Inline asm not supported by this streamer\\n"); process.abort()'],
    }));
    assert.equal(e.kind, 'crashed');
    assert.equal(e.details.signal, 'SIGABRT');
    assert.match(e.message, /SIGABRT: LLVM ERROR: Inline asm not supported/);
  });

  test('a killed child and a child without a response are typed errors', async () => {
    let e = await codegenError(runCodegen({ bitcode: small, object: join(dir, 'k.o'), ...CPU }, {
      childCommand: [process.execPath, '-e', 'process.kill(process.pid, "SIGKILL")'],
    }));
    assert.equal(e.kind, 'crashed');
    assert.equal(e.details.signal, 'SIGKILL');
    e = await codegenError(runCodegen({ bitcode: small, object: join(dir, 'k.o'), ...CPU }, {
      childCommand: [process.execPath, '-e', 'console.log("hello")'],
    }));
    assert.equal(e.kind, 'protocol');
    e = await codegenError(runCodegen({ bitcode: small, object: join(dir, 'k.o'), ...CPU }, {
      childCommand: [join(dir, 'no-such-node')],
    }));
    assert.equal(e.kind, 'spawn');
  });

  test('a child that runs too long is killed and reported as a timeout', async () => {
    // A child that never answers, so the time limit is what ends it however fast the machine is.
    const marker = `jlc-codegen-hang-${process.pid}`;
    const e = await codegenError(runCodegen({ bitcode: small, object: join(dir, 't.o'), ...CPU }, {
      timeoutMs: 300,
      childCommand: [process.execPath, '-e', 'setInterval(() => {}, 1000)', marker],
    }));
    assert.equal(e.kind, 'timeout');
    assert.deepEqual(await processesMatching(marker), [], 'the child was killed, not left running');
    assert.equal(existsSync(join(dir, 't.o')), false);
  });

  test('the bundled child (dist/codegen.js) works like the source one', { skip: !existsSync(join(repoRoot(), 'dist', 'codegen.js')) && 'dist/ not built' }, async () => {
    const r = await runCodegen({ bitcode: small, object: join(dir, 'bundled.o'), ...CPU }, {
      childCommand: [process.execPath, join(repoRoot(), 'dist', 'codegen.js')],
    });
    assert.equal(r.ok, true);
  });

  // Its speed is the benchmark's business (npm run bench); here only what it emits, with the time for the log.
  test('a ~400-function workload module emits a checked object', async () => {
    const big = makeBitcode(dir, 'parser', { workload: join(repoRoot(), 'workloads', 'parser.jl') });
    const t = performance.now();
    const r = await runCodegen({ bitcode: big, object: join(dir, 'parser.o'), ...CPU });
    const wall = performance.now() - t;
    console.log(`codegen of ${r.functions} functions: ${r.bytes} bytes, child ${r.ms.toFixed(0)} ms`,
      `(load ${r.timings.load.toFixed(0)}, parse ${r.timings.parse.toFixed(0)}, verify ${r.timings.verify.toFixed(0)},`,
      `emit ${r.timings.emit.toFixed(0)}, check ${r.timings.check.toFixed(0)}), wall ${wall.toFixed(0)} ms`);
    assert.ok(r.functions >= 300, `functions ${r.functions}`);
    assert.equal(r.bytes, readFileSync(join(dir, 'parser.o')).length);
    assert.deepEqual(checkObject(readFileSync(join(dir, 'parser.o'))).violations, []);
  });

  test('a module emitted in two parts is one object with every symbol of the one-part object', async () => {
    const big = makeBitcode(dir, 'split', { workload: join(repoRoot(), 'workloads', 'parser.jl') });
    const one = await runCodegen({ bitcode: big, object: join(dir, 'one.o'), ...CPU, parts: 1 });
    const two = await runCodegen({ bitcode: big, object: join(dir, 'two.o'), ...CPU, parts: 2 });
    assert.equal(one.parts, 1);
    assert.equal(two.parts, 2);
    assert.equal(two.functions, one.functions);
    const elf1 = readElf(readFileSync(join(dir, 'one.o')));
    const elf2 = readElf(readFileSync(join(dir, 'two.o')));
    const defined = (e: typeof elf1) => new Set(e.symbols.filter((s) => s.shndx !== SHN_UNDEF && s.bind !== STB_LOCAL).map((s) => s.name));
    const d1 = defined(elf1);
    const d2 = defined(elf2);
    for (const name of d1) assert.ok(d2.has(name), `${name} defined in the two-part object`);
    // each part's code and unwind info, nothing defined twice, nothing of ours left undefined
    assert.equal(elf2.sections.filter((s) => s.name === '.text').length, 2);
    assert.equal(elf2.sections.filter((s) => s.name === '.eh_frame').length, 2);
    assert.deepEqual(two.undefinedSymbols, one.undefinedSymbols);
    assert.deepEqual(checkObject(readFileSync(join(dir, 'two.o'))).violations, []);
  });

  test('a small module stays one part whatever is asked', async () => {
    const r = await runCodegen({ bitcode: small, object: join(dir, 'small2.o'), ...CPU, parts: 4 });
    assert.equal(r.parts, 1);
  });
});
