#!/usr/bin/env -S npx tsx
// simplechrome command line. See README.md, or `tsx run.ts --help`.
import { main } from './src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
