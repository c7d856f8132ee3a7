// Runs a package's test/runtests.jl in a session and reads Test's counts. The file runs inside a testset of our
// own, so that nested testsets record into it instead of throwing at the end, and an error outside any testset
// counts as one error instead of ending the run; what did compile before a failure is still there to save.
import type { JuliaSession } from '../session/juliaSession.ts';
import type { PackageInfo } from './packageInfo.ts';

export interface TestCounts {
  passed: number;
  failed: number;
  errored: number;
  broken: number;
  /** Descriptions of the testsets (at any depth) with failures or errors. */
  failedSets: string[];
}

/** Julia: include the tests under a DefaultTestSet; returns "passed failed errored broken\tset1\tset2...". */
function runnerCode(tests: string, name: string): string {
  return `let Test = Base.require(Base.PkgId(Base.UUID("8dfed614-e22c-5e08-85e1-65c5234f0b40"), "Test"))
    ts = Test.DefaultTestSet(${JSON.stringify(name)})
    Test.push_testset(ts)
    try
        Base.include(Main, ${JSON.stringify(tests)})
    catch err
        Test.record(ts, Test.Error(:nontest_error, :(), err, Base.catch_stack(), LineNumberNode(0)))
    finally
        Test.pop_testset()
    end
    failing(t) = t isa Test.DefaultTestSet ? vcat(Test.get_test_counts(t)[[2, 3, 6, 7]] == (0, 0, 0, 0) ? String[] : [t.description],
                                                  [failing(r) for r in t.results]...) : String[]
    c = Test.get_test_counts(ts)
    Text(join([join((c[1] + c[5], c[2] + c[6], c[3] + c[7], c[4] + c[8]), ' '); failing(ts)[2:end]], '\\t'))
end`;
}

export async function runPackageTests(session: JuliaSession, pkg: PackageInfo): Promise<TestCounts & { ms: number }> {
  const t0 = performance.now();
  const r = await session.evaluate({ code: runnerCode(pkg.tests, pkg.name), file: pkg.tests, line: 1 });
  const ms = performance.now() - t0;
  if (!r.ok || !r.display) throw new Error(`running ${pkg.tests} failed: ${r.error?.message ?? 'no result'}`);
  const [counts, ...failedSets] = r.display.split('\t');
  const [passed, failed, errored, broken] = counts.split(' ').map(Number);
  return { passed, failed, errored, broken, failedSets, ms };
}
