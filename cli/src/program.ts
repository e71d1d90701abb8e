import { Command, Option } from 'commander';
import { addCompletionCommand } from './commands/completion';
import { addIncidentCommands, addWebhookCommands } from './commands/incidents';
import { addRegistryCommands } from './commands/registry';
import { addRunCommand } from './commands/run';
import { addServiceCommands } from './commands/services';
import { addWatchCommand } from './commands/watch';

export const CLI_VERSION = '0.1.0';

/** Settings every command shares: usage errors are thrown (exit 2), help is wrapped at `helpWidth` when given. */
function configure(command: Command, helpWidth: number | undefined): void {
  command.exitOverride();
  // Every error reads `beacon: …` on stderr, commander's usage errors too.
  command.configureOutput({ outputError: (text, write) => write(`beacon: ${text.replace(/^error: /, '')}`) });
  command.showHelpAfterError('(beacon --help lists every command)');
  command.configureHelp(helpWidth === undefined ? { showGlobalOptions: true } : { showGlobalOptions: true, helpWidth });
  for (const sub of command.commands) configure(sub, helpWidth);
}

/** The whole command tree (also read by `completion` and the docs generator). */
export function buildProgram(options: { helpWidth?: number } = {}): Command {
  const program = new Command('beacon')
    .description("Beacon's command line: the service catalog, live events, incidents, webhooks; `beacon run` keeps any process registered")
    .version(CLI_VERSION, '-V', 'print the version')
    .addOption(new Option('--url <url>', "Beacon's base URL (env BEACON_URL; default http://localhost:8097, else found over mDNS)"))
    .addOption(new Option('--token <token>', 'bearer token (env BEACON_TOKEN)'))
    .option('--json', "print the API's JSON answer (one document; watch prints one event per line)")
    .option('-q, --quiet', 'print ids only, one a line')
    .option('--no-color', 'no colour (also off when NO_COLOR is set or stdout is not a terminal)')
    .addOption(new Option('--mdns-timeout <ms>', 'how long to look for Beacon over mDNS').default('2000').hideHelp());
  addServiceCommands(program);
  addWatchCommand(program);
  addRunCommand(program);
  addIncidentCommands(program);
  addWebhookCommands(program);
  addRegistryCommands(program);
  addCompletionCommand(program);
  configure(program, options.helpWidth);
  return program;
}
