/** Parsing of command-line values: one clear line naming the flag when a value is wrong. */
import { MemvisorError } from '../errors.js';

export function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new MemvisorError(`${flag} ${text}: expected a whole number from ${min} to ${max}`);
  return value;
}

export function regularExpression(flag: string, text: string): RegExp {
  try {
    return new RegExp(text, 'm');
  } catch (e) {
    throw new MemvisorError(`${flag} ${text}: not a valid regular expression (${(e as Error).message})`);
  }
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Backslash escapes in typed text: \n \r \t \\ and \xHH. */
export function unescapeText(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_m, e: string) => {
    if (e[0] === 'x' && e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t', '\\': '\\' } as Record<string, string>)[e] ?? `\\${e}`;
  });
}
