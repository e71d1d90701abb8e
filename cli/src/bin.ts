#!/usr/bin/env node
/** The `beacon` command (being written). */
process.stdout.write('beacon: not built yet\n');
