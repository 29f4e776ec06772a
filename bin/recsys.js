#!/usr/bin/env node
// Entry point of the `recsys` command: the compiled CLI (built by `npm install` / `npm run build`).
import { main } from '../dist/src/cli/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`recsys: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
