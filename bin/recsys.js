#!/usr/bin/env node
// Entry point of the `recsys` command: the compiled CLI (built by `npm install` / `npm run build`).
// `run` maps every outcome onto the exit status: 0 ok, 1 a run failed, 2 usage error, 130 interrupted.
import { run } from '../dist/src/cli/main.js';

process.exitCode = await run(process.argv);
