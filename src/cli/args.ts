/**
 * The command-line tools' `--name value` options, read with Node's own parser (node:util parseArgs,
 * which also takes `--name=value`). Every option has a default whose type (number, string, boolean)
 * the value must match; unknown options, stray arguments and bad values stop the tool with a
 * UsageError that names the wrong one, above a usage line.
 */
import { parseArgs as parseArgv } from 'node:util';

export type OptionValues = Record<string, number | string | boolean>;

export class UsageError extends Error {}

export function parseArgs<T extends OptionValues>(argv: string[], defaults: T): T {
  const options = Object.fromEntries(
    Object.entries(defaults).map(([name, v]) => [name, { type: typeof v === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
  );
  // Not strict: node:util then rejects a value that starts with '-' (`--seed -3`), and its messages
  // do not name our usage. So it only splits the arguments into tokens, and every check is below.
  const { tokens } = parseArgv({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const out: OptionValues = { ...defaults };
  for (const token of tokens) {
    if (token.kind === 'positional') throw usage(`unexpected argument '${token.value}'`, defaults);
    if (token.kind === 'option-terminator') throw usage(`unexpected argument '--'`, defaults);
    const { name, rawName, value, inlineValue } = token;
    if (rawName !== `--${name}` || !Object.hasOwn(defaults, name)) throw usage(`unknown option ${rawName}`, defaults);
    const kind = typeof defaults[name];
    if (kind === 'boolean') {
      if (value !== undefined) throw usage(`--${name} takes no value, got '${value}'`, defaults);
      out[name] = true;
    } else if (value === undefined || (!inlineValue && value.startsWith('--'))) {
      throw usage(`--${name} needs a value`, defaults);
    } else if (kind === 'number') {
      const n = value.trim() === '' ? NaN : Number(value);
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
