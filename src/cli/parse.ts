/** Parsing of command-line values: one clear line naming the flag when a value is wrong. */
import { MemvisorError } from '../errors.js';
import { consoleBytesOf, consoleRegExp } from '../machine/session.js';

export function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new MemvisorError(`${flag} ${text}: expected a whole number from ${min} to ${max}`);
  return value;
}

export function regularExpression(flag: string, text: string): RegExp {
  try {
    return consoleRegExp(text);
  } catch (e) {
    throw new MemvisorError(`${flag} ${text}: not a valid regular expression (${(e as Error).message})`);
  }
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Typed text as the bytes the console receives (one character per byte): the text is
 * UTF-8, and backslash escapes \n \r \t \\ and \xHH (one raw byte) are expanded.
 */
export function unescapeText(text: string): string {
  return text.split(/(\\x[0-9a-fA-F]{2}|\\.)/).map((part) => {
    if (/^\\x[0-9a-fA-F]{2}$/.test(part)) return String.fromCharCode(parseInt(part.slice(2), 16));
    const escaped = ({ '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\\\': '\\' } as Record<string, string>)[part];
    return escaped ?? consoleBytesOf(part);
  }).join('');
}
