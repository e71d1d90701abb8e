#!/usr/bin/env node
// The `beacon` command's launcher. It is in the repository (not built) so that installing links
// it before anything is built: `npx beacon` then works from the root and inside cli/ once
// `pnpm build` has made dist/.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'dist', 'bin.js');
if (!existsSync(built)) {
  process.stderr.write(`beacon: ${built} is missing: run "pnpm build" first\n`);
  process.exit(1);
}
require(built);
