#!/usr/bin/env node
// The `simplechrome` command (package.json "bin"). A checkout runs its
// TypeScript sources (run.ts) through tsx, so it never runs a stale build; an
// installed package has no sources, only the command built at `npm pack` time
// (dist/, scripts/build-cli.ts), which starts in about a fifth of the time
// tsx takes to compile the sources (bench/RESULTS.md, 2026-12-07).
import { existsSync } from 'node:fs';

const sources = new URL('../run.ts', import.meta.url);
const built = new URL('../dist/run.js', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(
    `simplechrome: neither the sources (run.ts) nor the built command (${built.pathname}) are here; ` +
      'a package must be made with `npm pack`, whose prepack step builds dist/ (scripts/build-cli.ts)\n',
  );
  process.exitCode = 1;
}
