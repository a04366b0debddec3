import type { SerializedError } from 'vitest';
import type { Reporter, TestModule, TestRunEndReason, TestSuite } from 'vitest/node';

/** Counts of one run as the summary line reports them. */
export interface RunCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Failures that are not a failed test: a file that failed to load, a suite whose beforeAll or
 * afterAll hook threw (its tests are then reported as skipped, not failed). Each module or suite
 * with errors of its own counts once; one with no errors of its own but a failed state and no
 * failed test below it (a module whose collection failed) also counts once.
 */
function entityFailures(entity: TestModule | TestSuite): number {
  if (entity.errors().length > 0) return 1;
  if (entity.state() !== 'failed') return 0;
  const anyFailedBelow = [...entity.children.allTests()].some((t) => t.result().state === 'failed') || [...entity.children.allSuites()].some((s) => s.errors().length > 0);
  return anyFailedBelow ? 0 : 1;
}

/** The counts of a finished run: tests by state, plus failed files, failed hooks and errors outside any test. */
export function countRun(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = [], reason?: TestRunEndReason): RunCounts {
  const counts: RunCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const module of testModules) {
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') counts.passed++;
      else if (state === 'failed') counts.failed++;
      else counts.skipped++;
    }
    counts.failed += entityFailures(module);
    for (const suite of module.children.allSuites()) counts.failed += entityFailures(suite);
  }
  counts.failed += unhandledErrors.length;
  // Whatever vitest counted as a failure of the run shows in the line, even one not seen above.
  if (reason === 'failed' && counts.failed === 0) counts.failed = 1;
  return counts;
}

/**
 * Closes the run with one plain line, `tests: N passed, N failed, N skipped`, that CI systems
 * can read without knowing vitest's own output. Failed files, failed hooks and unhandled errors
 * count as failed: a run whose setup broke never reads "0 failed".
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    const { passed, failed, skipped } = countRun(testModules, unhandledErrors, reason);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
