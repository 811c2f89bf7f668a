#!/usr/bin/env -S npx tsx
// simplechrome command line. See README.md, or `tsx run.ts --help`.
import { installInterruptHandlers } from './src/cli/session/interrupt.ts';
import { main } from './src/cli/main.ts';

installInterruptHandlers();
process.exitCode = await main(process.argv.slice(2));
