/**
 * Colour for the launcher's log, only where someone reads it in a terminal: a log file,
 * journald or a test reading a pipe gets the same prefixes without escape codes.
 * FORCE_COLOR (as Node reads it: anything but 0/false turns colour on) wins over NO_COLOR
 * (https://no-color.org: any non-empty value turns it off).
 */
export function colorEnabled(stream = process.stdout, env = process.env) {
  if (env.FORCE_COLOR !== undefined) return !/^(0|false)$/i.test(env.FORCE_COLOR);
  if (env.NO_COLOR) return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** `paint(code, text)`: text in SGR colour `code`, or the text alone when colour is off. */
export function painter(enabled) {
  return enabled ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
}
