import type { Command } from 'commander';
import { usage } from '../exit-codes';

interface Node {
  path: string[];
  subcommands: { name: string; description: string }[];
  options: string[];
}

/** Every command path with its subcommands and flags, read from the command tree itself. */
export function commandTree(program: Command): Node[] {
  const nodes: Node[] = [];
  const globals = program.options.map((option) => option.long).filter((flag): flag is string => flag !== undefined);
  const walk = (command: Command, path: string[]): void => {
    const visible = command.commands.filter((sub) => !(sub as unknown as { _hidden?: boolean })._hidden);
    nodes.push({
      path,
      subcommands: visible.map((sub) => ({ name: sub.name(), description: sub.description() })),
      options: [
        ...new Set([
          ...command.options.map((option) => option.long).filter((flag): flag is string => flag !== undefined),
          ...globals,
          '--help',
        ]),
      ],
    });
    for (const sub of visible) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return nodes;
}

function bash(program: Command): string {
  const nodes = commandTree(program);
  const key = (path: string[]): string => path.join(' ');
  const subs = nodes.map((node) => `    "${key(node.path)}") subs="${node.subcommands.map((sub) => sub.name).join(' ')}" ;;`).join('\n');
  const words = nodes
    .map((node) => `    "${key(node.path)}") words="${[...node.subcommands.map((sub) => sub.name), ...node.options].join(' ')}" ;;`)
    .join('\n');
  return `# beacon completion for bash: eval "$(beacon completion bash)" (generated from the command tree)
_beacon_subcommands() {
  case "$1" in
${subs}
    *) subs="" ;;
  esac
}
_beacon() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word i subs words
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == "--" ]] && return 0
    _beacon_subcommands "$path"
    if [[ " $subs " == *" $word "* ]]; then path="\${path:+$path }$word"; fi
  done
  case "$path" in
${words}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _beacon beacon
`;
}

function zsh(program: Command): string {
  return `#compdef beacon
# beacon completion for zsh: eval "$(beacon completion zsh)" (the bash completion through bashcompinit)
autoload -U +X bashcompinit && bashcompinit
${bash(program)}`;
}

function fish(program: Command): string {
  const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [
    '# beacon completion for fish: beacon completion fish | source (generated from the command tree)',
    'complete -c beacon -f',
  ];
  for (const node of commandTree(program)) {
    const condition =
      node.path.length === 0
        ? '__fish_use_subcommand'
        : `__fish_seen_subcommand_from ${node.path[node.path.length - 1]}${node.subcommands.length > 0 ? `; and not __fish_seen_subcommand_from ${node.subcommands.map((sub) => sub.name).join(' ')}` : ''}`;
    for (const sub of node.subcommands)
      lines.push(`complete -c beacon -n ${quote(condition)} -a ${sub.name} -d ${quote(sub.description.slice(0, 60))}`);
    if (node.path.length > 0) {
      for (const flag of node.options)
        lines.push(`complete -c beacon -n ${quote(`__fish_seen_subcommand_from ${node.path[node.path.length - 1]}`)} -l ${flag.slice(2)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function addCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: eval "$(beacon completion bash)"')
    .argument('<shell>', 'bash, zsh or fish')
    .action((shell: string) => {
      const scripts: Record<string, (root: Command) => string> = { bash, zsh, fish };
      const make = scripts[shell];
      if (make === undefined) throw usage(`completion is for bash, zsh or fish, not "${shell}"`);
      process.stdout.write(make(program));
    });
}
