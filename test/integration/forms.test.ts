// Every everyday Julia form (workloads/forms/*.jl) saved in one real session and reloaded in the next: the cached
// session must return the same value and compile nothing for main()'s first call, and the save must have been
// captured inside the live session (no worker). One test per file, sequentially (~15 s each).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { brief, cleanupTemps, cliRun, tempDir, workloads } from '../helpers/cliRun.ts';

const formsDir = join(workloads, 'forms');
const forms = readdirSync(formsDir).filter((f) => f.endsWith('.jl')).sort();

describe('everyday forms: save in one session, fully cached in the next', () => {
  after(cleanupTemps);

  test('the corpus is there', () => {
    assert.ok(forms.length >= 13, `workloads/forms has ${forms.length} .jl files: ${forms.join(', ')}`);
  });

  for (const form of forms) {
    test(form, async (t) => {
      const file = join(formsDir, form);
      const cache = tempDir(`forms-${form.replace(/\.jl$/, '')}`);

      const cold = await cliRun(file, cache, { save: true });
      t.diagnostic(`cold: ${brief(cold)}`);
      assert.equal(cold.cache, 'none', `a fresh cache directory has nothing to load: ${brief(cold)}`);
      assert.equal(cold.capture_path, 'session', `captured in the live session, not the worker: ${brief(cold)}`);
      assert.ok((cold.methods_saved ?? 0) > 0, `the save stored methods: ${brief(cold)}`);

      const cached = await cliRun(file, cache);
      t.diagnostic(`cached: ${brief(cached)}`);
      assert.equal(cached.cache, 'loaded', `the cached session loaded the entry: ${brief(cached)}`);
      assert.equal(cached.result, cold.result, 'main() returns the same value from the cache');
      assert.ok(cached.methods_loaded > 0, `methods were installed: ${brief(cached)}`);
      assert.deepEqual(
        { methods_compiled: cached.methods_compiled, first_compiled: cached.first_compiled },
        { methods_compiled: 0, first_compiled: [] },
        `main()'s first call in the cached session compiled ${cached.methods_compiled} methods ` +
          `(saved ${cold.methods_saved}, skipped ${cold.skipped}): ${JSON.stringify(cached.first_compiled)}`,
      );
    });
  }
});
