// Runs the `cortex` command from source (tests spawn it with `node --import tsx`), so a stale dist/ never hides a change.
import { main } from '../../gateway/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
