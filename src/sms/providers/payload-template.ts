import type { CustomContentType } from './sms-provider.js';

export interface PayloadValues {
  body: string;
  mobile: string;
  /** Stable across retries of one message, so a gateway can drop a duplicate. */
  messageId: string;
}

export interface PayloadTemplate {
  render(values: PayloadValues): string;
}

type PlaceholderName = keyof PayloadValues;

type Segment =
  | { kind: 'literal'; text: string }
  | { kind: 'placeholder'; name: PlaceholderName; insideJsonString: boolean };

const PLACEHOLDER = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/;
const KNOWN_PLACEHOLDERS: readonly string[] = ['body', 'mobile', 'messageId'];

// Values chosen to break naive substitution: quotes, backslashes, control characters, braces,
// form delimiters, non-BMP characters and the line separators JavaScript once treated as newlines.
const HOSTILE_SAMPLE: PayloadValues = {
  body: 'Code: "12\\34"\n\t}{{body}}&a=b \u2028 é 😀 </script>',
  mobile: '+94"77\\1234567\r\n',
  messageId: '"}{\\',
};

/**
 * Compiles a WSO2-style custom-provider payload template with `{{body}}`, `{{mobile}}` and `{{messageId}}`.
 * Throws an Error explaining the problem when the template cannot work.
 */
export function compilePayloadTemplate(template: string, contentType: CustomContentType): PayloadTemplate {
  const segments = contentType === 'JSON' ? scanJsonTemplate(template) : scanFormTemplate(template);
  // product-is#19441: a template without {{body}} delivers an SMS without the code.
  if (!segments.some((segment) => segment.kind === 'placeholder' && segment.name === 'body')) {
    throw new Error('payload template must contain the {{body}} placeholder');
  }
  const encode = contentType === 'JSON' ? encodeJsonValue : encodeFormValue;
  const compiled: PayloadTemplate = { render: (values) => renderSegments(segments, values, encode) };
  if (contentType === 'JSON') assertRendersValidJson(compiled);
  return compiled;
}

function renderSegments(
  segments: readonly Segment[],
  values: PayloadValues,
  encode: (value: string, insideJsonString: boolean) => string,
): string {
  return segments
    .map((segment) =>
      segment.kind === 'literal' ? segment.text : encode(values[segment.name], segment.insideJsonString),
    )
    .join('');
}

function encodeJsonValue(value: string, insideJsonString: boolean): string {
  const quoted = JSON.stringify(value);
  return insideJsonString ? quoted.slice(1, -1) : quoted;
}

function encodeFormValue(value: string): string {
  // URLSearchParams serialises with the application/x-www-form-urlencoded byte serializer (space → '+').
  return new URLSearchParams([['', value]]).toString().slice(1);
}

function assertRendersValidJson(compiled: PayloadTemplate): void {
  try {
    JSON.parse(compiled.render(HOSTILE_SAMPLE));
  } catch {
    throw new Error('payload template does not produce valid JSON');
  }
}

/** One pass over the template, tracking whether each placeholder sits inside a JSON string literal. */
function scanJsonTemplate(template: string): Segment[] {
  const segments: Segment[] = [];
  let literal = '';
  let insideString = false;
  let escaped = false;
  // Hex digits still owed to a `\uXXXX` escape. A placeholder there is finished by the value's first characters:
  // valid JSON for some values (the hostile sample's body starts with the hex digit C), invalid for others.
  let hexDigitsLeft = 0;
  let index = 0;
  while (index < template.length) {
    const char = template.charAt(index);
    if (hexDigitsLeft > 0) {
      if (char === '{' && matchPlaceholder(template, index) !== undefined) {
        throw new Error('payload template has a placeholder inside a \\u escape sequence');
      }
      hexDigitsLeft -= 1;
    } else if (escaped) {
      escaped = false;
      if (char === 'u') hexDigitsLeft = 4;
    } else if (char === '{') {
      const placeholder = matchPlaceholder(template, index);
      if (placeholder !== undefined) {
        segments.push({ kind: 'literal', text: literal });
        segments.push({ kind: 'placeholder', name: placeholder.name, insideJsonString: insideString });
        literal = '';
        index += placeholder.length;
        continue;
      }
    } else if (insideString && char === '\\') {
      escaped = true;
    } else if (char === '"') {
      insideString = !insideString;
    }
    literal += char;
    index += 1;
  }
  segments.push({ kind: 'literal', text: literal });
  return segments;
}

function scanFormTemplate(template: string): Segment[] {
  const segments: Segment[] = [];
  let literal = '';
  let index = 0;
  while (index < template.length) {
    const placeholder = template.charAt(index) === '{' ? matchPlaceholder(template, index) : undefined;
    if (placeholder === undefined) {
      literal += template.charAt(index);
      index += 1;
      continue;
    }
    segments.push({ kind: 'literal', text: literal });
    segments.push({ kind: 'placeholder', name: placeholder.name, insideJsonString: false });
    literal = '';
    index += placeholder.length;
  }
  segments.push({ kind: 'literal', text: literal });
  return segments;
}

function matchPlaceholder(template: string, index: number): { name: PlaceholderName; length: number } | undefined {
  const match = PLACEHOLDER.exec(template.slice(index, index + 64));
  const name = match?.[1];
  if (match === null || name === undefined) return undefined;
  if (!isPlaceholderName(name)) {
    // Typos such as {{Body}} or {{otp}} would otherwise be sent verbatim to the gateway.
    throw new Error(
      `payload template has an unknown placeholder {{${name}}}; only {{body}}, {{mobile}} and {{messageId}} exist`,
    );
  }
  return { name, length: match[0].length };
}

function isPlaceholderName(name: string): name is PlaceholderName {
  return KNOWN_PLACEHOLDERS.includes(name);
}

// RFC 9110 field-name token.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible octets, space and tab only (RFC 9110 §5.5); CR/LF/NUL would split the request, and
// characters beyond one octet cannot be sent at all (the HTTP client refuses them at every delivery).
const FORBIDDEN_VALUE_CHARS = /[^\t\x20-\x7E\x80-\xFF]/;
// Framing and hop-by-hop headers belong to the HTTP client; content-type follows the configured Content Type.
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'content-length',
  'host',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'content-type',
  // Set per message (its stable reference); a configured value would be the same for every message.
  'idempotency-key',
]);

/**
 * Parses WSO2's static header list, `name: value, name2: value2`. Header values are secrets
 * (tokens, API keys), so error messages name the header or its position, never the value.
 */
export function parseStaticHeaders(input: string): Record<string, string> {
  const entries = input
    .split(',')
    .map((item, index) => ({ item, position: index + 1 }))
    // A stray or trailing comma is harmless, so empty items are skipped rather than rejected.
    .filter(({ item }) => item.trim() !== '')
    .map(({ item, position }) => parseHeaderItem(item, position));
  const seen = new Set<string>();
  for (const [name] of entries) {
    if (seen.has(name)) throw new Error(`header "${name}" is given more than once`);
    seen.add(name);
  }
  return Object.fromEntries(entries);
}

function parseHeaderItem(item: string, position: number): [string, string] {
  const colon = item.indexOf(':');
  if (colon < 0) throw new Error(`header ${position} has no ":" between name and value`);
  const name = item.slice(0, colon).trim().toLowerCase();
  const value = item.slice(colon + 1).trim();
  if (name === '') throw new Error(`header ${position} has an empty name`);
  if (!HEADER_NAME.test(name)) throw new Error(`header ${position} has an invalid name`);
  if (RESERVED_HEADERS.has(name)) throw new Error(`header "${name}" is set by the server and cannot be configured`);
  if (FORBIDDEN_VALUE_CHARS.test(value))
    throw new Error(`header "${name}" has a value with control characters or characters HTTP cannot carry`);
  return [name, value];
}
