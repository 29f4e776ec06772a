import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeHtml, htmlTable, noteBox, renderReport, writeReport } from '../../src/report/html.js';
import { networkRefs } from './generate.js';

describe('escapeHtml', () => {
  it('escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x">Tom & 'Jerry'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;');
  });
});

describe('htmlTable', () => {
  it('formats numbers right-aligned and escapes text', () => {
    const t = htmlTable(['name', 'n'], [['<b>', 12345], ['x', 0.5]]);
    expect(t).toContain('<td>&lt;b&gt;</td>');
    expect(t).toContain('<td class="num">12,345</td>');
    expect(t).toContain('<td class="num">0.5</td>');
    expect(t).not.toContain('<b>');
    expect(htmlTable(['raw'], [[{ html: '<em>ok</em>' }]])).toContain('<em>ok</em>');
    const kv = htmlTable(['', ''], [['users', 5], ['kind', 'rating']]);
    expect(kv).not.toContain('<thead>');
    expect(kv).toContain('<td class="num">5</td>');
    expect(kv).toContain('<td>rating</td>');
    expect(htmlTable(['', ''], [['density', '9.7%'], ['top', '5.6% / 29.0%'], ['x', '5 items']])).toMatch(/<td class="num">9\.7%<\/td>.*<td class="num">5\.6% \/ 29\.0%<\/td>.*<td>5 items<\/td>/);
  });
});

describe('renderReport', () => {
  const html = renderReport({
    title: 'Report <script>alert(1)</script>',
    subtitle: 'a & b',
    sections: [
      { id: 's1', title: 'First "one"', html: noteBox(['synthetic <data>'], 'warning') },
      { id: 's2', title: 'Second', html: '<p>body</p>' },
    ],
  });

  it('is one self-contained page: no scripts, nothing loaded from the network', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(networkRefs(html)).toEqual([]);
    expect(html).toContain('<style>');
  });

  it('escapes user text in the title, subtitle, headings and notes', () => {
    expect(html).toContain('<title>Report &lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(html).toContain('<h1>Report &lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    expect(html).toContain('<p>a &amp; b</p>');
    expect(html).toContain('<h2>First &quot;one&quot;</h2>');
    expect(html).toContain('<li>synthetic &lt;data&gt;</li>');
  });

  it('links every section from the table of contents, in order', () => {
    expect(html).toContain('<a href="#s1">');
    expect(html.indexOf('id="s1"')).toBeLessThan(html.indexOf('id="s2"'));
  });

  it('rejects bad and repeated section ids', () => {
    expect(() => renderReport({ title: 't', sections: [{ id: 'a"b', title: 'x', html: '' }] })).toThrow(/section id/);
    expect(() => renderReport({ title: 't', sections: [{ id: 'a', title: 'x', html: '' }, { id: 'a', title: 'y', html: '' }] })).toThrow(/used twice/);
  });
});

describe('writeReport', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('creates missing directories and leaves no temporary file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'recsys-report-'));
    dirs.push(dir);
    const path = join(dir, 'deep', 'er', 'report.html');
    await writeReport(path, { title: 'T', sections: [] });
    expect(await readFile(path, 'utf8')).toContain('<h1>T</h1>');
    await writeReport(path, '<p>replaced</p>');
    expect(await readFile(path, 'utf8')).toBe('<p>replaced</p>');
    expect(await readdir(join(dir, 'deep', 'er'))).toEqual(['report.html']);
  });
});
