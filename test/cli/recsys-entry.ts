// The `recsys` command on the TypeScript sources, for tests that spawn a real process: the same two lines as
// bin/recsys.js, which runs the compiled dist/ instead.
import { run } from '../../src/cli/main.js';

process.exitCode = await run(process.argv);
