import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compilePayloadTemplate,
  type PayloadValues,
  parseStaticHeaders,
  RESERVED_HEADERS,
} from '../../src/sms/providers/payload-template.js';
import { hostileString, isWellFormed, NASTY_STRINGS, runs } from './fuzz-support.js';

// Unique, alphanumeric: unchanged by JSON and form encoding, so they mark where each value lands.
const MARKERS: PayloadValues = { body: 'ZZbodyMARKER7731', mobile: 'ZZmobileMARKER4415', messageId: 'ZZidMARKER9902' };

/** Well-formed text: what a phone number or SMS body can be once it is UTF-8. */
const wellFormed = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom(...NASTY_STRINGS.filter(isWellFormed)),
  fc
    .array(
      fc.constantFrom('"', '\\', '}}', '{{body}}', '{{ mobile }}', '\u0000', '\r\n', '\u2028', '&', '=', '+', '%'),
      {
        maxLength: 8,
      },
    )
    .map((parts) => parts.join('')),
);

const values = fc.record({ body: wellFormed, mobile: wellFormed, messageId: fc.uuid() });

function replaceMarkers(value: unknown, actual: PayloadValues): unknown {
  if (typeof value === 'string') {
    return value
      .split(MARKERS.body)
      .join(actual.body)
      .split(MARKERS.mobile)
      .join(actual.mobile)
      .split(MARKERS.messageId)
      .join(actual.messageId);
  }
  if (Array.isArray(value)) return value.map((item) => replaceMarkers(item, actual));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [replaceMarkers(key, actual), replaceMarkers(item, actual)]),
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// JSON templates: placeholders bare or inside string literals, at any depth, with odd literal text.

const placeholder = fc
  .tuple(fc.constantFrom('body', 'mobile', 'messageId'), fc.constantFrom('', ' ', '  ', '\t'), fc.constantFrom('', ' '))
  .map(([name, before, after]) => `{{${before}${name}${after}}}`);

/** Literal text inside a JSON string: escapes included, but no raw quote, backslash or control character. */
const stringLiteralText = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 6 }).map((text) => text.replace(/["\\{}\p{Cc}]/gu, '')),
      // Never two braces in a row: `{{name}}` would be a placeholder.
      fc.constantFrom('\\"', '\\\\', '\\n', '\\u0041', '\\u00e9', '\\ud83d\\ude00', '\\/', '}', '{ ', ' '),
    ),
    { maxLength: 4 },
  )
  .map((parts) => parts.join(''));

const stringWithPlaceholders = fc
  .array(fc.oneof(stringLiteralText, placeholder), { minLength: 1, maxLength: 4 })
  .map((parts) => `"${parts.join('')}"`);

const jsonTemplateValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    placeholder,
    stringWithPlaceholders,
    fc.constantFrom('1', '-2.5e3', 'true', 'false', 'null', '"plain"'),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
    fc
      .array(
        fc.tuple(
          fc.string({ maxLength: 6 }).map((key) => key.replace(/[{}]/g, '')),
          tie('value'),
        ),
        {
          maxLength: 3,
        },
      )
      .map(
        (entries) =>
          `{${entries.map(([key, value], index) => `${JSON.stringify(`${key}${index}`)}: ${value}`).join(',')}}`,
      ),
  ),
})).value;

/** Objects at the top, as gateways expect; the body placeholder is always somewhere. */
const jsonTemplate = fc
  .tuple(jsonTemplateValue, jsonTemplateValue, fc.constantFrom('', '\n', '  '))
  .map(([first, second, gap]) => `{${gap}"message": ${first}, "text": "{{body}}",${gap}"extra": ${second}}`);

const SEED_JSON_TEMPLATES: readonly string[] = [
  '{"content": {{body}},"to": {{mobile}}}',
  '{"to":{{mobile}},"text":{{body}}}',
  '{"msg":"Code: {{body}}","to":"{{mobile}}"}',
  '{"a":["{{ body }}", {{mobile}}, {"deep": "x\\"{{body}}\\"y"}]}',
  '{"{{mobile}}": "{{body}}"}',
  '[{{body}}]',
];

// ---------------------------------------------------------------------------------------------
// FORM templates: name=value pairs whose values hold placeholders.

const formName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,10}$/);
const formLiteral = fc.constantFrom('', 'Code:', 'x%20y', '+', 'a%26b', '%3D');
const formTemplate = fc
  .array(fc.tuple(formName, fc.array(fc.oneof(formLiteral, placeholder), { maxLength: 3 })), {
    minLength: 0,
    maxLength: 4,
  })
  .map((pairs) => {
    const fields = pairs.map(([name, parts], index) => `${name}${index}=${parts.join('')}`);
    return [...fields, 'text={{body}}'].join('&');
  });

function formPairs(text: string): [string, string][] {
  return [...new URLSearchParams(text)];
}

describe('payload templates under fuzzing', () => {
  it('JSON templates render valid JSON whose values are the inputs, exactly', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...SEED_JSON_TEMPLATES), jsonTemplate), values, (template, input) => {
        const compiled = compilePayloadTemplate(template, 'JSON');
        const expected = replaceMarkers(JSON.parse(compiled.render(MARKERS)), input);
        expect(JSON.parse(compiled.render(input))).toEqual(expected);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('JSON templates carry lone surrogates as escapes, still valid JSON', () => {
    const loneSurrogates = fc.string({
      unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(fc.constantFrom(...SEED_JSON_TEMPLATES), loneSurrogates, (template, body) => {
        const compiled = compilePayloadTemplate(template, 'JSON');
        const rendered = compiled.render({ body, mobile: '+94771234567', messageId: 'm-1' });
        expect(isWellFormed(rendered)).toBe(true);
        const expected = replaceMarkers(JSON.parse(compiled.render(MARKERS)), {
          body,
          mobile: '+94771234567',
          messageId: 'm-1',
        });
        expect(JSON.parse(rendered)).toEqual(expected);
      }),
      { numRuns: runs(200) },
    );
  });

  it('any template that compiles as JSON renders valid JSON for any input', () => {
    const template = fc.oneof(
      fc.string({
        unit: fc.constantFrom('{', '}', '"', '\\', ':', ',', '[', ']', ' ', 'a', '1', '{{body}}', '{{mobile}}'),
      }),
      jsonTemplate.chain((text) =>
        fc
          .tuple(fc.nat(text.length), fc.constantFrom('"', '\\', '{', '}}', '{{body}}', ','))
          .map(([at, insert]) => text.slice(0, at) + insert + text.slice(at)),
      ),
    );
    let compiled = 0;
    fc.assert(
      fc.property(template, values, (text, input) => {
        let render: ((input: PayloadValues) => string) | undefined;
        try {
          render = compilePayloadTemplate(text, 'JSON').render;
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          return;
        }
        compiled += 1;
        expect(() => JSON.parse(render(input)), text).not.toThrow();
      }),
      // Found by this property: a placeholder inside a \uXXXX escape compiled, then broke on a body such as "\u0000".
      {
        numRuns: runs(1000),
        examples: [['{"a": "\\u00e{{body}}9"}', { body: '\u0000', mobile: '', messageId: 'm-1' }]],
      },
    );
    expect(compiled).toBeGreaterThan(0);
  });

  it('FORM templates decode back to the inputs', () => {
    fc.assert(
      fc.property(formTemplate, values, (template, input) => {
        const compiled = compilePayloadTemplate(template, 'FORM');
        const expected = formPairs(compiled.render(MARKERS)).map(([name, value]) => [
          name,
          replaceMarkers(value, input),
        ]);
        expect(formPairs(compiled.render(input))).toEqual(expected);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('a placeholder inside a \\u escape is refused at compile time', () => {
    for (const template of [
      '{"a": "\\u{{body}}"}',
      '{"a": "\\u00e{{body}}9"}',
      '{"a": {{body}}, "b": "\\u12{{mobile}}"}',
    ]) {
      expect(() => compilePayloadTemplate(template, 'JSON'), template).toThrow(/escape/);
    }
    expect(
      JSON.parse(
        compilePayloadTemplate('{"a": "\\u00e9{{body}}"}', 'JSON').render({ body: 'x', mobile: '', messageId: 'm-1' }),
      ),
    ).toEqual({
      a: 'éx',
    });
  });

  it('unknown placeholders and templates without {{body}} are refused at compile time', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/).filter((name) => name !== 'body' && name !== 'mobile'),
        fc.constantFrom<'JSON' | 'FORM'>('JSON', 'FORM'),
        (name, contentType) => {
          expect(() => compilePayloadTemplate(`{"a": {{body}}, "b": "{{${name}}}"}`, contentType)).toThrow(Error);
          expect(() => compilePayloadTemplate(`{"a": {{mobile}}}`, contentType)).toThrow(/\{\{body\}\}/);
        },
      ),
      { numRuns: runs(200) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Static headers

const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;

const headerPiece = fc.oneof(
  hostileString,
  fc.constantFrom(
    '\r',
    '\n',
    '\r\n',
    '\u0000',
    ':',
    ',',
    ' ',
    '\t',
    'X-Api-Key',
    'Bearer abc',
    'Host',
    'Content-Length',
  ),
  fc.stringMatching(/^[A-Za-z-]{1,12}$/),
);
const headerList = fc.array(headerPiece, { maxLength: 8 }).map((parts) => parts.join(''));

const RESERVED = [...RESERVED_HEADERS];

const headerName = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/)
  .filter((name) => !RESERVED.includes(name.toLowerCase()));

describe('static headers under fuzzing', () => {
  it('never yield a header name or value with CR, LF, NUL or another control character', () => {
    fc.assert(
      fc.property(headerList, (input) => {
        let headers: Record<string, string>;
        try {
          headers = parseStaticHeaders(input);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          return;
        }
        for (const [name, value] of Object.entries(headers)) {
          expect(name).toMatch(HEADER_TOKEN);
          expect(value).not.toMatch(CONTROL);
          expect(value).toBe(value.trim());
        }
      }),
      { numRuns: runs(2000) },
    );
  });

  it('a line break inside a value is refused, wherever it sits', () => {
    fc.assert(
      fc.property(
        headerName,
        fc.stringMatching(/^[!-+\--~]{1,10}$/),
        fc.stringMatching(/^[!-+\--~]{1,10}$/),
        fc.constantFrom('\r\n', '\n', '\r', '\u0000', '\r\nX-Injected: 1\r\n'),
        (name, before, after, injection) => {
          expect(() => parseStaticHeaders(`${name}: ${before}${injection}${after}`)).toThrow(/control characters/);
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it('valid lists round-trip', () => {
    const entry = fc.tuple(headerName, fc.stringMatching(/^[!-+\--~]([ !-+\--~]{0,20}[!-+\--~])?$/));
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: ([name]) => name.toLowerCase(), maxLength: 5 }), (entries) => {
        const text = entries.map(([name, value]) => `${name}: ${value}`).join(', ');
        expect(parseStaticHeaders(text)).toEqual(
          Object.fromEntries(entries.map(([name, value]) => [name.toLowerCase(), value])),
        );
      }),
      { numRuns: runs(300) },
    );
  });
});
