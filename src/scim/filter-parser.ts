import { AppError } from '../errors/app-error.js';
import { assertFilterWithinBounds, MAX_FILTER_LENGTH } from './filter-limits.js';

/**
 * The one SCIM expression parser (RFC 7644): filters (section 3.4.2.2), PATCH paths (section 3.5.2) and
 * `attributes=` / `excludedAttributes=` lists (section 3.9). It knows the grammar only; resolving attribute
 * names against a resource's schema, and turning a filter into SQL, is the caller's job (see
 * src/query/filter-sql.ts and the per-resource filter mappings), so Users and Groups share it.
 *
 * Not scim2-parse-filter: that one mangles string escapes (`"a\\b"` keeps both backslashes, `\u0041` is not
 * decoded), its string regex backtracks exponentially on unterminated strings with line breaks, it rewrites
 * `emails[type eq "work"].value eq "x"` into an `and` that may match two different emails, and it turns
 * unknown words such as `constructor` into logical operators.
 *
 * Lenient where the input is unambiguous (what Okta and Entra ID send): operators and logical words in any
 * case, and a comparison value written without quotes (`userName eq okta.x@example.com`) is a string unless
 * it is `true`, `false`, `null` or a number.
 */

/** PATCH paths (a filter in brackets at most): as long as a filter may be (src/scim/filter-limits.ts). */
export const MAX_PATH_LENGTH = MAX_FILTER_LENGTH;
export const MAX_FILTER_DEPTH = 32;

export const COMPARE_OPERATORS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
export type CompareOperator = (typeof COMPARE_OPERATORS)[number];
export type ComparisonValue = string | number | boolean | null;

/**
 * A parsed filter. `path` is an attribute path as written (`name.givenName`, `emails.value`,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`); inside a `valuePath`
 * the paths are relative to the multi-valued attribute (`type`, `value`).
 */
export type FilterExpression =
  | { kind: 'and' | 'or'; filters: FilterExpression[] }
  | { kind: 'not'; filter: FilterExpression }
  | { kind: 'compare'; path: string; op: CompareOperator; value: ComparisonValue }
  | { kind: 'present'; path: string }
  /** `emails[type eq "work"]`; `emails[type eq "work"].value eq "x"` is `emails[type eq "work" and value eq "x"]`. */
  | { kind: 'valuePath'; path: string; filter: FilterExpression };

export type AttributeExpression = Extract<FilterExpression, { kind: 'compare' | 'present' }>;

/** A PATCH path: `attr`, `attr.sub`, `urn:...:attr`, `attr[filter]` or `attr[filter].sub`. */
export interface PatchPathExpression {
  path: string;
  filter?: FilterExpression;
  subAttribute?: string;
}

/** An attribute path split at the schema URN (the text before the last colon) and the dots. */
export interface AttributePathParts {
  urn: string | undefined;
  attribute: string;
  subAttribute: string | undefined;
}

type TokenKind = 'word' | 'string' | 'value' | '(' | ')' | '[' | ']' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
}

const WORD_CHAR = /[\w.:$+-]/;
const WHITESPACE = /\s/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const ATTRIBUTE_NAME = /^[A-Za-z$][\w$-]*$/;
const LOGICAL_WORDS: ReadonlySet<string> = new Set(['and', 'or', 'not']);
const MAX_TEXT_IN_DETAIL = 80;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for.
const UNSTORABLE = /[\u0000\p{Cs}]/u;

export function invalidFilter(detail: string): AppError {
  return new AppError('INVALID_FILTER', detail);
}

/** For error details: user input, shortened. */
export function quoted(text: string): string {
  return `'${text.length > MAX_TEXT_IN_DETAIL ? `${text.slice(0, MAX_TEXT_IN_DETAIL)}…` : text}'`;
}

export function isCompareOperator(word: string): word is CompareOperator {
  return (COMPARE_OPERATORS as readonly string[]).includes(word);
}

// ---------------------------------------------------------------------------------------------
// Tokens

/** After `attr op` comes a value; a bare one runs to the next space, `)` or `]`. */
function expectsValue(tokens: readonly Token[]): boolean {
  const operator = tokens.at(-1);
  const attribute = tokens.at(-2);
  return (
    operator?.kind === 'word' &&
    isCompareOperator(operator.text.toLowerCase()) &&
    attribute?.kind === 'word' &&
    !LOGICAL_WORDS.has(attribute.text.toLowerCase())
  );
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < input.length) {
    const char = input.charAt(index);
    if (WHITESPACE.test(char)) {
      index += 1;
    } else if (char === '"') {
      const end = stringEnd(input, index);
      tokens.push({ kind: 'string', text: input.slice(index, end) });
      index = end;
    } else if (expectsValue(tokens) && char !== '(' && char !== ')' && char !== '[' && char !== ']') {
      let end = index + 1;
      while (end < input.length && !/[\s()[\]]/.test(input.charAt(end))) end += 1;
      tokens.push({ kind: 'value', text: input.slice(index, end) });
      index = end;
    } else if (char === '(' || char === ')' || char === '[' || char === ']') {
      tokens.push({ kind: char, text: char });
      index += 1;
    } else if (WORD_CHAR.test(char)) {
      let end = index + 1;
      while (end < input.length && WORD_CHAR.test(input.charAt(end))) end += 1;
      tokens.push({ kind: 'word', text: input.slice(index, end) });
      index = end;
    } else {
      throw invalidFilter(`Unexpected character ${quoted(char)} at position ${index + 1}`);
    }
  }
  tokens.push({ kind: 'end', text: 'end of filter' });
  return tokens;
}

/** Index just past the closing quote; escapes are decoded later by JSON.parse. */
function stringEnd(input: string, start: number): number {
  let index = start + 1;
  while (index < input.length) {
    const char = input.charAt(index);
    if (char === '"') return index + 1;
    index += char === '\\' ? 2 : 1;
  }
  throw invalidFilter(`Unterminated string starting at position ${start + 1}`);
}

function decodeString(literal: string): string {
  try {
    const value: unknown = JSON.parse(literal);
    // PostgreSQL text cannot hold NUL, and a lone surrogate (`"\udc00"`) has no UTF-8 form: PGlite can fail
    // on it (SQLSTATE 22021) and pg silently sends U+FFFD instead. Reject both rather than fail or mismatch in SQL.
    if (typeof value === 'string' && !UNSTORABLE.test(value)) return value;
  } catch {
    // reported below
  }
  throw invalidFilter(`Invalid string ${quoted(literal)}`);
}

/** A bare value: `true`, `false`, `null` and numbers keep their JSON meaning, any other word is a string. */
function decodeBareValue(text: string): ComparisonValue {
  const word = text.toLowerCase();
  if (word === 'true' || word === 'false') return word === 'true';
  if (word === 'null') return null;
  if (NUMBER.test(text)) return Number(text);
  if (/["']/.test(text) || UNSTORABLE.test(text)) throw invalidFilter(`Invalid comparison value ${quoted(text)}`);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Grammar

/** Recursive descent; precedence not > and > or (RFC 7644 section 3.4.2.2). */
class Parser {
  private index = 0;
  private depth = 0;
  private inValuePath = false;

  constructor(private readonly tokens: readonly Token[]) {}

  parseFilter(): FilterExpression {
    if (this.peek().kind === 'end') throw invalidFilter('Filter is empty');
    const filter = this.parseOr();
    this.expectEnd();
    return filter;
  }

  /** Structure errors are INVALID_PATH; errors inside the brackets stay INVALID_FILTER (RFC 7644 table 9). */
  parsePatchPath(text: string): PatchPathExpression {
    const token = this.next();
    if (token.kind !== 'word' || token.text.startsWith('.')) throw invalidPath(text, 'not an attribute path');
    const result: PatchPathExpression = { path: token.text };
    if (this.peek().kind === '[') {
      this.next();
      this.inValuePath = true;
      result.filter = this.nested(() => this.parseOr());
      if (this.next().kind !== ']') throw invalidPath(text, 'unbalanced brackets');
      const sub = this.peek();
      if (sub.kind === 'word' && sub.text.startsWith('.')) {
        this.next();
        result.subAttribute = sub.text.slice(1);
      }
    }
    const rest = this.peek();
    if (rest.kind !== 'end') throw invalidPath(text, `unexpected ${quoted(rest.text)}`);
    return result;
  }

  private expectEnd(): void {
    const rest = this.peek();
    if (rest.kind !== 'end') throw invalidFilter(`Unexpected ${quoted(rest.text)}`);
  }

  private peek(offset = 0): Token {
    return this.tokens[this.index + offset] ?? { kind: 'end', text: 'end of filter' };
  }

  private next(): Token {
    const token = this.peek();
    this.index += 1;
    return token;
  }

  private isWord(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'word' && token.text.toLowerCase() === word;
  }

  private expect(kind: TokenKind): void {
    const token = this.next();
    if (token.kind !== kind) throw invalidFilter(`Expected '${kind}' but found ${quoted(token.text)}`);
  }

  private nested<T>(parse: () => T): T {
    this.depth += 1;
    if (this.depth > MAX_FILTER_DEPTH) throw invalidFilter(`Filter is nested too deeply (max ${MAX_FILTER_DEPTH})`);
    const result = parse();
    this.depth -= 1;
    return result;
  }

  private parseOr(): FilterExpression {
    return this.parseLogical('or', () => this.parseAnd());
  }

  private parseAnd(): FilterExpression {
    return this.parseLogical('and', () => this.parseUnary());
  }

  private parseLogical(kind: 'and' | 'or', operand: () => FilterExpression): FilterExpression {
    const filters = [operand()];
    while (this.isWord(kind)) {
      this.next();
      filters.push(operand());
    }
    const [only] = filters;
    return filters.length === 1 && only !== undefined ? only : { kind, filters };
  }

  private parseUnary(): FilterExpression {
    // `not` before an operator is an attribute called "not" (unknown, reported as such by the resolver).
    const following = this.peek(1);
    const isOperator =
      following.kind === 'word' && (isCompareOperator(following.text.toLowerCase()) || this.isWord('pr', 1));
    if (this.isWord('not') && !isOperator) {
      this.next();
      return this.nested(() => ({ kind: 'not', filter: this.parseUnary() }));
    }
    if (this.peek().kind === '(') {
      this.next();
      const filter = this.nested(() => this.parseOr());
      this.expect(')');
      return filter;
    }
    return this.parseAttributeExpression();
  }

  private parseAttributeExpression(): FilterExpression {
    const token = this.next();
    if (token.kind !== 'word' || token.text.startsWith('.')) {
      throw invalidFilter(`Expected an attribute but found ${quoted(token.text)}`);
    }
    if (this.peek().kind === '[') return this.parseValuePath(token.text);
    return this.parseOperator(token.text);
  }

  private parseValuePath(path: string): FilterExpression {
    if (this.inValuePath) throw invalidFilter(`Value filters cannot be nested (${quoted(path)})`);
    this.next();
    this.inValuePath = true;
    const inner = this.nested(() => this.parseOr());
    this.inValuePath = false;
    this.expect(']');
    const sub = this.peek();
    if (sub.kind !== 'word' || !sub.text.startsWith('.')) return { kind: 'valuePath', path, filter: inner };
    // `emails[type eq "work"].value eq "x"`: the comparison applies to the same item.
    this.next();
    const comparison = this.parseOperator(sub.text.slice(1));
    return { kind: 'valuePath', path, filter: { kind: 'and', filters: [inner, comparison] } };
  }

  private parseOperator(path: string): AttributeExpression {
    const token = this.next();
    const operator = token.text.toLowerCase();
    if (token.kind === 'word' && operator === 'pr') return { kind: 'present', path };
    if (token.kind === 'word' && isCompareOperator(operator)) {
      return { kind: 'compare', path, op: operator, value: this.parseValue() };
    }
    if (token.kind === 'end') throw invalidFilter(`Missing operator after ${quoted(path)}`);
    throw invalidFilter(`Unknown operator ${quoted(token.text)} after ${quoted(path)}`);
  }

  private parseValue(): ComparisonValue {
    const token = this.next();
    if (token.kind === 'string') return decodeString(token.text);
    if (token.kind === 'value') return decodeBareValue(token.text);
    throw invalidFilter(`Missing comparison value, found ${quoted(token.text)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Parses a filter; every error is an INVALID_FILTER AppError. Its bounds are src/scim/filter-limits.ts's. */
export function parseFilter(text: string): FilterExpression {
  assertFilterWithinBounds(text);
  return new Parser(tokenize(text)).parseFilter();
}

export function invalidPath(path: string, reason: string): AppError {
  return new AppError('INVALID_PATH', `Invalid path ${quoted(path)}: ${reason}`);
}

/** Parses a PATCH path (RFC 7644 section 3.5.2). */
export function parsePatchPath(text: string): PatchPathExpression {
  if (text.length > MAX_PATH_LENGTH) throw invalidPath(text.slice(0, 64), `longer than ${MAX_PATH_LENGTH} characters`);
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (error) {
    if (text.includes('[') || !(error instanceof AppError)) throw error;
    throw invalidPath(text, error.detail);
  }
  return new Parser(tokens).parsePatchPath(text);
}

/** Splits `[urn:]attribute[.sub]`; throws INVALID_FILTER naming the path when it is not one. */
export function splitAttributePath(path: string): AttributePathParts {
  const colon = path.lastIndexOf(':');
  const urn = colon < 0 ? undefined : path.slice(0, colon);
  const names = path.slice(colon + 1).split('.');
  const [attribute, subAttribute, ...rest] = names;
  if (attribute === undefined || rest.length > 0 || !names.every((name) => ATTRIBUTE_NAME.test(name))) {
    throw invalidFilter(`Invalid attribute path ${quoted(path)}`);
  }
  return { urn, attribute, subAttribute };
}

/**
 * `attributes=` / `excludedAttributes=`: a comma-separated list of attribute paths (or schema URNs).
 * Each entry must be a single path token; errors are INVALID_VALUE (RFC 7644 section 3.9 names no scimType).
 */
export function parseAttributeList(text: string): string[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  for (const entry of entries) {
    let tokens: Token[];
    try {
      tokens = tokenize(entry);
    } catch {
      tokens = [];
    }
    const [first, end] = tokens;
    if (tokens.length !== 2 || first?.kind !== 'word' || end?.kind !== 'end' || first.text.startsWith('.')) {
      throw new AppError('INVALID_VALUE', `Invalid attribute name ${quoted(entry)}`);
    }
  }
  return entries;
}
