import { parseMultipart } from '../../server/admin/multipartForm';

describe('parseMultipart', () => {
  const body = (parts: string[]) => Buffer.from(`${parts.join('')}--XyZ--\r\n`, 'utf8');
  const part = (headers: string, content: string) => `--XyZ\r\n${headers}\r\n\r\n${content}\r\n`;

  it('reads text fields and a file by name, with UTF-8 and CRLF inside the file', () => {
    const fields = parseMultipart(
      body([
        part('Content-Disposition: form-data; name="_csrf"', 'abc'),
        part(
          'Content-Disposition: form-data; name="file"; filename="t.csv"\r\nContent-Type: text/csv',
          'a,b\r\nZoë,2\r\n',
        ),
      ]),
      'XyZ',
    );
    expect(fields._csrf).toBe('abc');
    expect(fields.file).toBe('a,b\r\nZoë,2\r\n');
  });

  it('keeps the first of a repeated field and ignores names that could reach the prototype', () => {
    const fields = parseMultipart(
      body([
        part('Content-Disposition: form-data; name="_csrf"', 'first'),
        part('Content-Disposition: form-data; name="_csrf"', 'second'),
        part('Content-Disposition: form-data; name="__proto__"', 'x'),
        part('Content-Disposition: form-data; name="a.b"', 'y'),
      ]),
      'XyZ',
    );
    expect(fields._csrf).toBe('first');
    expect(Object.keys(fields)).toEqual(['_csrf']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
