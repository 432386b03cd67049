import { describe, expect, it } from 'vitest';
import { compilePayloadTemplate, parseStaticHeaders } from '../../src/sms/providers/payload-template.js';

const TRICKY = {
  body: 'Your code: "A1b2C3"\nback\\slash\ttab é 中文 😀 \u2028 }{{mobile}}',
  mobile: '+94"771234567\\',
  messageId: '0b6f9d1e-2c4a-4f3b-9a7e-5d8c1b2a3f40',
};

describe('compilePayloadTemplate (JSON)', () => {
  it('renders the seed example, where placeholders stand outside string literals, as valid JSON', () => {
    const template = compilePayloadTemplate('{"content": {{body}},"to": {{mobile}}}', 'JSON');
    expect(JSON.parse(template.render(TRICKY))).toEqual({ content: TRICKY.body, to: TRICKY.mobile });
  });

  it('escapes values placed inside string literals without adding quotes', () => {
    const template = compilePayloadTemplate('{"msg":"Code: {{body}}","to":"{{mobile}}"}', 'JSON');
    expect(JSON.parse(template.render(TRICKY))).toEqual({ msg: `Code: ${TRICKY.body}`, to: TRICKY.mobile });
  });

  it('allows spaces inside the braces and repeated placeholders', () => {
    const template = compilePayloadTemplate('{"a":{{ body }},"b":"{{body  }}!","c":[{{mobile}}]}', 'JSON');
    expect(JSON.parse(template.render({ body: 'x', mobile: '+1', messageId: 'm-1' }))).toEqual({
      a: 'x',
      b: 'x!',
      c: ['+1'],
    });
  });

  it('honours escaped quotes in the literal parts when deciding whether a placeholder is inside a string', () => {
    const template = compilePayloadTemplate('{"note":"say \\"hi\\" {{body}}","to":{{mobile}}}', 'JSON');
    expect(JSON.parse(template.render({ body: '"}', mobile: '+1', messageId: 'm-1' }))).toEqual({
      note: 'say "hi" "}',
      to: '+1',
    });
  });

  it('quotes a placeholder used as a key', () => {
    const template = compilePayloadTemplate('{{{mobile}}: {{body}}}', 'JSON');
    expect(JSON.parse(template.render({ body: 'b', mobile: '+1', messageId: 'm-1' }))).toEqual({ '+1': 'b' });
  });

  it('keeps literal braces inside strings', () => {
    const template = compilePayloadTemplate('{"t":"{x}","b":{{body}}}', 'JSON');
    expect(JSON.parse(template.render({ body: 'b', mobile: 'm', messageId: 'm-1' }))).toEqual({ t: '{x}', b: 'b' });
  });

  it('never lets a value add keys or close the object', () => {
    const template = compilePayloadTemplate('{"text":"{{body}}","to":{{mobile}}}', 'JSON');
    const parsed = JSON.parse(template.render({ body: '","admin":true,"x":"', mobile: '"},{"y":1', messageId: 'm-1' }));
    expect(Object.keys(parsed)).toEqual(['text', 'to']);
  });

  it('rejects a template without {{body}} (product-is#19441)', () => {
    expect(() => compilePayloadTemplate('{"to": {{mobile}}, "text": "hello"}', 'JSON')).toThrow(/\{\{body\}\}/);
  });

  it.each([
    ['unbalanced braces', '{"content": {{body}}'],
    ['two placeholders glued together', '{"content": {{body}}{{mobile}}}'],
    ['an unterminated string', '{"content": "{{body}}}'],
    ['a placeholder glued to a number', '{"n": 1{{body}}}'],
    ['trailing text', '{"content": {{body}}} extra'],
  ])('rejects a template that cannot produce valid JSON: %s', (_name, source) => {
    expect(() => compilePayloadTemplate(source, 'JSON')).toThrow('payload template does not produce valid JSON');
  });

  it('rejects unknown placeholders instead of sending them verbatim', () => {
    expect(() => compilePayloadTemplate('{"a":{{body}},"b":"{{Body}}"}', 'JSON')).toThrow(
      /unknown placeholder \{\{Body\}\}/,
    );
  });
});

describe('compilePayloadTemplate (FORM)', () => {
  it('url-encodes substituted values and keeps literal parts as given', () => {
    const template = compilePayloadTemplate('Body={{body}}&To={{mobile}}&From=ABC', 'FORM');
    const rendered = template.render({ body: 'Code: 1&2=3 +é😀\n"\\', mobile: '+94771234567', messageId: 'm-1' });
    expect(rendered).toBe('Body=Code%3A+1%262%3D3+%2B%C3%A9%F0%9F%98%80%0A%22%5C&To=%2B94771234567&From=ABC');
    expect(Object.fromEntries(new URLSearchParams(rendered))).toEqual({
      Body: 'Code: 1&2=3 +é😀\n"\\',
      To: '+94771234567',
      From: 'ABC',
    });
  });

  it('keeps WSO2-style literal separators (the shipped Twilio template uses commas)', () => {
    const template = compilePayloadTemplate('Body={{body}},To={{mobile}},From=$sender', 'FORM');
    expect(template.render({ body: 'a,b', mobile: '+1', messageId: 'm-1' })).toBe('Body=a%2Cb,To=%2B1,From=$sender');
  });

  it('rejects a template without {{body}}', () => {
    expect(() => compilePayloadTemplate('To={{mobile}}&Body=hello', 'FORM')).toThrow(/\{\{body\}\}/);
  });
});

describe('parseStaticHeaders', () => {
  it('parses the WSO2 example', () => {
    expect(parseStaticHeaders('authorisation: qwer1234asdfzxcv, x-csrf: true, x-abc: some-value')).toEqual({
      authorisation: 'qwer1234asdfzxcv',
      'x-csrf': 'true',
      'x-abc': 'some-value',
    });
  });

  it('splits at the first colon only, trims, lower-cases names and skips empty items', () => {
    expect(parseStaticHeaders(' Authorization : Bearer a:b:c ,, X-Trace:1, ')).toEqual({
      authorization: 'Bearer a:b:c',
      'x-trace': '1',
    });
  });

  it('trims surrounding whitespace, including a trailing newline pasted with the value', () => {
    expect(parseStaticHeaders('authorization: Bearer abc\r\n')).toEqual({ authorization: 'Bearer abc' });
  });

  it('returns an empty object for empty or blank input', () => {
    expect(parseStaticHeaders('')).toEqual({});
    expect(parseStaticHeaders('   ')).toEqual({});
  });

  it('keeps a header named __proto__ as a plain own property', () => {
    const headers = parseStaticHeaders('__proto__: x');
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.hasOwn(headers, '__proto__')).toBe(true);
  });

  it.each([
    ['an item without a colon', 'authorization Bearer xyz', /no ":"/],
    ['an empty name', ': value', /empty name/],
    ['a name with a space', 'x bad: 1', /invalid name/],
    ['a name with a newline', 'x\nbad: 1', /invalid name/],
    ['a value with CRLF (header injection)', 'x-a: 1\r\nx-injected: 2', /control characters/],
    ['a value with a bare LF', 'x-a: 1\nhost: evil', /control characters/],
    ['a value with NUL', 'x-a: 1\u0000', /control characters/],
    ['content-length', 'Content-Length: 5', /cannot be configured/],
    ['host', 'host: evil.example', /cannot be configured/],
    ['transfer-encoding', 'Transfer-Encoding: chunked', /cannot be configured/],
    ['a duplicate', 'x-a: 1, X-A: 2', /more than once/],
  ])('rejects %s', (_name, input, message) => {
    expect(() => parseStaticHeaders(input)).toThrow(message);
  });

  it('never puts a header value into the error message', () => {
    const secret = 's3cr3t-t0ken';
    for (const input of [`authorization: ${secret}\r\nx-b: 1`, `bad name: ${secret}`, `${secret}`, `host: ${secret}`]) {
      expect(() => parseStaticHeaders(input)).toThrow();
      try {
        parseStaticHeaders(input);
      } catch (error) {
        expect(String(error)).not.toContain(secret);
      }
    }
  });
});
