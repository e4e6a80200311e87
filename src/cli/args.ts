/**
 * A small `--name value` parser for the command-line tools: every option has a default whose type
 * (number, string, boolean) the value must match; unknown options and bad values stop the tool with
 * a usage message that names the wrong one.
 */
export type OptionValues = Record<string, number | string | boolean>;

export class UsageError extends Error {}

export function parseArgs<T extends OptionValues>(argv: string[], defaults: T): T {
  const out: OptionValues = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw usage(`unexpected argument '${arg}'`, defaults);
    const name = arg.slice(2);
    if (!(name in defaults)) throw usage(`unknown option --${name}`, defaults);
    const kind = typeof defaults[name];
    if (kind === 'boolean') {
      out[name] = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) throw usage(`--${name} needs a value`, defaults);
    if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw usage(`--${name} must be a number, got '${value}'`, defaults);
      out[name] = n;
    } else {
      out[name] = value;
    }
  }
  return out as T;
}

function usage(problem: string, defaults: OptionValues): UsageError {
  const options = Object.entries(defaults)
    .map(([k, v]) => (typeof v === 'boolean' ? `[--${k}]` : `[--${k} ${typeof v === 'number' ? 'N' : 'VALUE'}]`))
    .join(' ');
  return new UsageError(`${problem}\nusage: ${options}`);
}
