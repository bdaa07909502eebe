/**
 * Which Cortex the bench measures: the working tree's dist/ (built here unless --no-build), or with `--ref <commit>`
 * a clean export of that commit, built in the bench's temporary folder — so a tree other people are editing (and
 * that may not build at this moment) still gives a run of committed code.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'

export interface CortexBuild {
  /** The folder holding bin/cortex.js and dist/. */
  root: string
  /** `bin/cortex.js` in it. */
  bin: string
  /** What was built, for the report: `working tree at <sha> (+ uncommitted changes)` or `<ref> = <sha>`. */
  source: string
}

function git(root: string, args: string[]): string {
  const res = spawnSync('git', args, { cwd: root, encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${res.stderr.trim()}`)
  return res.stdout.trim()
}

function tsc(repo: string, cwd: string): void {
  const res = spawnSync(path.join(repo, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd, stdio: 'inherit' })
  if (res.status !== 0)
    throw new Error(
      `tsc -p tsconfig.build.json failed in ${cwd}: fix the build, or measure a commit that builds with --ref <commit>`,
    )
}

export function buildCortex(repo: string, opts: { ref?: string; noBuild: boolean; dir: string }): CortexBuild {
  if (opts.ref === undefined) {
    const sha = git(repo, ['rev-parse', '--short', 'HEAD'])
    const dirty = git(repo, ['status', '--porcelain', '--', 'gateway', 'bin']) !== ''
    if (!opts.noBuild) tsc(repo, repo)
    const source = `working tree at ${sha}${dirty ? ' + uncommitted changes in gateway/' : ''}${opts.noBuild ? ' (dist/ as found)' : ''}`
    return { root: repo, bin: path.join(repo, 'bin', 'cortex.js'), source }
  }
  const sha = git(repo, ['rev-parse', '--short', `${opts.ref}^{commit}`])
  const root = path.join(opts.dir, `cortex-${sha}`)
  mkdirSync(root)
  // git archive | tar: the commit's files only, nothing of the working tree; node_modules is the repository's own.
  const archive = spawnSync('sh', ['-c', `git -C "$1" archive --format=tar "$2" | tar -x -C "$3"`, 'sh', repo, sha, root], {
    encoding: 'utf8',
  })
  if (archive.status !== 0) throw new Error(`git archive ${sha} into ${root} failed: ${archive.stderr}`)
  symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  tsc(repo, root)
  return { root, bin: path.join(root, 'bin', 'cortex.js'), source: `${opts.ref} = ${sha}` }
}
