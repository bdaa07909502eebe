import type { Reporter, TestModule } from 'vitest/node'

/**
 * Prints every skipped test by its full name (suites that may skip say why in their title), then one
 * plain closing line, `tests: N passed, N failed, N skipped`, that any CI log reader understands.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 }
    const skipped: string[] = []
    for (const mod of modules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') counts.passed++
        else if (state === 'failed') counts.failed++
        else {
          counts.skipped++
          skipped.push(`${mod.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}`)
        }
      }
      if (mod.state() === 'failed' && mod.children.size === 0) counts.failed++
    }
    for (const name of skipped) process.stdout.write(`skipped: ${name}\n`)
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`)
  }
}
