// The dashboard is plain HTML, CSS and JavaScript: the build copies it next to the server.
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(app, 'dist', 'public'), { recursive: true, force: true });
cpSync(join(app, 'public'), join(app, 'dist', 'public'), { recursive: true });
