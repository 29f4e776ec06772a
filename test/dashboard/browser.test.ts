/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the service on
 * 127.0.0.1 (nothing else is reachable: the page may only talk to its own origin). Every page must load without a
 * console error; the user explorer must show recommendations and change them when an event is posted; the model
 * chart must draw one mark per model. Skipped, with a message, when /usr/bin/chromium is absent.
 * (The docs' screenshots come from scripts/dashboard-screenshots.ts against a real `recsys serve`.)
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Service } from '../../src/serve/app.js';
import { buildDashboard, defaultUiDir } from '../../src/serve/dashboard.js';
import { tempDir } from '../serve/fixtures.js';
import { dashboardModel, dashboardService, RESULT_MODELS, writeResults } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard browser tests skipped: ${CHROMIUM} is absent (install it with \`apt-get install -y chromium\`)`);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

describe.skipIf(!hasChromium)('the dashboard in Chromium', () => {
  let service: Service;
  let resultsOnly: FastifyInstance;
  let base = '';
  let resultsBase = '';
  let profile = '';
  let context: BrowserContext;
  /** Console errors and uncaught exceptions of every page opened by {@link open}. */
  let errors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(defaultUiDir(), 'index.html'))) execFileSync('npm', ['run', 'build:ui'], { stdio: 'inherit' });
    const root = await tempDir('recsys-dash-browser-');
    const model = await dashboardModel(root);
    const results = join(root, 'out');
    await writeResults(results);
    service = await dashboardService(model, results);
    base = await service.app.listen({ host: '127.0.0.1', port: 0 });
    resultsOnly = await buildDashboard({ resultsDir: results });
    resultsBase = await resultsOnly.listen({ host: '127.0.0.1', port: 0 });
    profile = await mkdtemp(join(tmpdir(), 'recsys-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
    // Nothing but the two local servers: any other request is a bug (a CDN, a schema fetch).
    await context.route(/.*/, (route) => {
      const url = route.request().url();
      if (url.startsWith(base) || url.startsWith(resultsBase) || url.startsWith('data:')) return route.continue();
      errors.push(`request outside the service: ${url}`);
      return route.abort();
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await service?.close();
    await resultsOnly?.close();
  });

  async function open(url: string, width = 1280, setup?: (page: Page) => Promise<void>): Promise<Page> {
    errors = [];
    const page = await context.newPage();
    await setup?.(page);
    await page.setViewportSize({ width, height: 900 });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await page.goto(url);
    return page;
  }

  /** The items of the list titled `title` on the user explorer. */
  async function listItems(page: Page, title: string): Promise<string[]> {
    return page.locator(`ol[data-list="${title}"] > li`).evaluateAll((lis) => lis.map((li) => li.getAttribute('data-item') ?? ''));
  }

  it('Data: the EDA charts render, the time filter recomputes them, the cleaning report is shown', async () => {
    const page = await open(`${base}/#/data`);
    await page.locator('figure.chart svg').nth(4).waitFor();
    expect(await page.locator('figure.chart svg').count()).toBeGreaterThanOrEqual(6);
    await expect.poll(() => page.locator('caption', { hasText: 'Cleaning report' }).count()).toBe(1);
    const overview = page.locator('table', { has: page.locator('caption', { hasText: 'Overview' }) });
    const count = async (): Promise<number> => Number((await overview.locator('tr').filter({ has: page.locator('th', { hasText: /^interactions$/ }) }).locator('td').innerText()).replace(/,/g, ''));
    const all = await count();
    expect(all).toBeGreaterThan(0);
    // Dragging across the time chart fills the range inputs.
    const timeChart = page.getByRole('group', { name: /Activity by day/ }).locator('svg').first();
    await timeChart.scrollIntoViewIfNeeded();
    const box = await timeChart.boundingBox();
    if (!box) throw new Error('no time chart');
    await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    const brushed = [await page.getByLabel('From', { exact: true }).inputValue(), await page.getByLabel('To', { exact: true }).inputValue()];
    expect(brushed[0]).toMatch(/^2020-\d\d-\d\d$/);
    expect(brushed[1] > brushed[0]).toBe(true);
    await page.getByLabel('From', { exact: true }).fill('2020-09-20');
    await page.getByLabel('To', { exact: true }).fill('2020-10-10');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('caption', { hasText: 'Overview (time range)' }).waitFor();
    const windowed = await count();
    expect(windowed).toBeGreaterThan(0);
    expect(windowed).toBeLessThan(all);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('Models: one mark per model in the metric chart; the paired tests and times tables', async () => {
    const page = await open(`${base}/#/models`);
    await page.locator('figure.chart svg').waitFor();
    const metrics = page.getByRole('group', { name: 'Metrics' });
    // Keep one metric: then each model is exactly one point.
    await metrics.getByLabel('recall@10').uncheck();
    await metrics.getByLabel('coverage@10').uncheck();
    const points = page.locator('figure.chart g.mark-symbol.role-mark path');
    await expect.poll(() => points.count()).toBe(RESULT_MODELS.length);
    await page.getByRole('group', { name: 'Models' }).getByLabel('random').uncheck();
    await expect.poll(() => points.count()).toBe(RESULT_MODELS.length - 1);
    await metrics.getByLabel('recall@10').check();
    await metrics.getByLabel('coverage@10').check();
    await page.getByRole('group', { name: 'Models' }).getByLabel('random').check();
    await expect.poll(() => points.count()).toBe(RESULT_MODELS.length * 3);
    expect(await page.locator('caption', { hasText: 'Paired tests' }).count()).toBe(1);
    const times = page.locator('table', { has: page.locator('caption', { hasText: 'Fit and scoring times' }) });
    expect(await times.locator('tbody tr').count()).toBe(RESULT_MODELS.length);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('User explorer: recommendations for a known user; posting an event changes them (fold-in)', async () => {
    const page = await open(`${base}/#/users?user=3`);
    // The service runs the pipeline: the page shows its stages, the explored list is the final one.
    await page.locator('ol[data-list="Explored"] > li').first().waitFor();
    expect(await page.locator('ol[data-list="Retrieved"] > li').count()).toBeGreaterThanOrEqual(10);
    expect(await page.locator('p.basis').getAttribute('data-basis')).toBe('model');
    const before = await listItems(page, 'Explored');
    expect(before).toHaveLength(10);
    expect(await page.locator('caption', { hasText: 'History of 3' }).count()).toBe(1);
    // Titles from the data set's metadata are shown next to the ids.
    expect(await page.locator('ol[data-list="Explored"] .item-title').first().innerText()).toMatch(/^\s*Item \d+$/);
    await page.getByLabel('Item', { exact: true }).fill(before[0]);
    await page.getByRole('button', { name: 'Post event' }).click();
    await page.getByRole('status').filter({ hasText: 'stored 1 event' }).waitFor();
    await expect.poll(() => listItems(page, 'Explored')).not.toEqual(before);
    const after = await listItems(page, 'Explored');
    // The viewed item is now history: it leaves the list, and the list is re-scored from the new history.
    expect(after).not.toContain(before[0]);
    expect(await page.locator('p.basis').getAttribute('data-basis')).toBe('fold-in');
    expect(await page.locator('ol[data-list="Explored"] .source').first().innerText()).toBe('exact');
    expect(await page.locator('ol[data-list="Explored"] li.new').count()).toBeGreaterThan(0);
    await page.locator('caption', { hasText: '1 events since' }).waitFor();
    // The "viewed" button of a listed item posts too.
    await page.getByRole('button', { name: `Post a view of item ${after[0]}` }).click();
    await expect.poll(() => listItems(page, 'Explored')).not.toContain(after[0]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('User explorer over a pipeline service: the stages side by side, the knobs sent as parameters', async () => {
    // The service's pipeline (stages, exploration parameters) is mocked at the network level: the page must use
    // what /openapi.json declares and draw the stages it is given.
    const requests: URLSearchParams[] = [];
    const page = await open(`${base}/#/users?user=3`, 1280, async (p) => {
      const names = ['user', 'k', 'exclude', 'explore', 'temperature', 'sigma', 'leastViewed', 'seed', 'stages'];
      await p.route(/\/openapi\.json$/, (route) => route.fulfill({ json: { openapi: '3.1.0', paths: { '/v1/recommendations': { get: { parameters: names.map((name) => ({ name, in: 'query' })) } } } } }));
      await p.route(/\/v1\/recommendations\?/, (route) => {
        const q = new URL(route.request().url()).searchParams;
        requests.push(q);
        const list = (ids: number[], source: (i: number) => string) => ids.map((item, j) => ({ item, score: 1 - j / 10, source: source(item), rank: j + 1 }));
        const ranked = list([5, 6, 7, 8], () => 'ials');
        const explored = q.get('explore') ? list([8, 5, 7, 6], () => 'sampling') : ranked;
        return route.fulfill({ json: { user: 3, model: 'ials', version: 'v1', items: explored, warnings: [], stages: { retrieved: list([5, 6, 7, 8, 9], (i) => (i === 9 ? 'popularity' : 'ann')), ranked, explored, rankedBy: 'mlp-ranker' } } });
      });
    });
    await page.locator('ol[data-list="Retrieved"] > li').first().waitFor();
    expect(await listItems(page, 'Retrieved')).toEqual(['5', '6', '7', '8', '9']);
    expect(await page.locator('ol[data-list="Retrieved"] .source').allInnerTexts()).toEqual(['ann', 'ann', 'ann', 'ann', 'popularity']);
    expect(await listItems(page, 'Ranked (mlp-ranker)')).toEqual(['5', '6', '7', '8']);
    expect(await listItems(page, 'Explored')).toEqual(['5', '6', '7', '8']);
    expect(await page.locator('ol[data-list="Recommendations"]').count()).toBe(0); // the explored list is the final one
    expect(await page.getByRole('button', { name: 'Post a view of item 5' }).count()).toBe(1);
    expect(requests.at(-1)?.get('stages')).toBe('true');
    expect(requests.at(-1)?.has('explore')).toBe(false);
    const knobs = page.getByRole('group', { name: /^Exploration/ });
    await knobs.getByLabel('sampling').check();
    await expect.poll(() => listItems(page, 'Explored')).toEqual(['8', '5', '7', '6']);
    expect(Object.fromEntries(requests.at(-1) ?? [])).toMatchObject({ explore: 'sampling', temperature: '1', seed: '1' });
    expect(requests.at(-1)?.has('sigma')).toBe(false);
    await knobs.getByLabel('temperature').fill('0.5');
    await expect.poll(() => requests.at(-1)?.get('temperature')).toBe('0.5');
    await knobs.getByLabel('noise').check();
    await expect.poll(() => requests.at(-1)?.get('explore')).toBe('sampling,noise');
    expect(requests.at(-1)?.get('sigma')).toBe('0.1');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('Item explorer: similar items, and one point per item on the embedding map', async () => {
    const page = await open(`${base}/#/items?item=7`);
    await page.getByRole('list', { name: 'Similar items' }).locator('li').first().waitFor();
    expect(await page.getByRole('list', { name: 'Similar items' }).locator('li').count()).toBe(12);
    const points = page.locator('figure.chart g.mark-symbol.role-mark path');
    await expect.poll(() => points.count()).toBe(50);
    // Clicking a similar item selects it.
    const second = page.getByRole('list', { name: 'Similar items' }).locator('li button').first();
    const id = (await second.locator('.item-id').innerText()).trim();
    await second.click();
    await expect.poll(() => page.getByLabel('Item', { exact: true }).inputValue()).toBe(id);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('Service: the model, events accepted and per-route latency from /metrics, updated live', async () => {
    const page = await open(`${base}/#/service`);
    const routes = page.locator('table', { has: page.locator('caption', { hasText: 'Per route' }) });
    await routes.locator('tr', { hasText: 'GET /v1/recommendations' }).waitFor();
    const events = page.locator('tr', { hasText: 'events accepted' }).locator('td');
    expect(Number(await events.innerText())).toBeGreaterThanOrEqual(2);
    const total = async (): Promise<number> => Number((await routes.locator('tr', { hasText: 'GET /metrics' }).locator('td').nth(1).innerText()).replace(/,/g, ''));
    const first = await total();
    await expect.poll(total, { timeout: 8000 }).toBeGreaterThan(first);
    expect(await page.locator('tr', { hasText: 'version' }).locator('td').innerText()).toMatch(/^ials@/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('is keyboard navigable and readable at 800 px (no page-wide horizontal scrolling)', async () => {
    const page = await open(`${base}/#/data`, 800);
    await page.locator('figure.chart svg').first().waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Models');
    await page.keyboard.press('Enter');
    // The data page's charts stay up until the route changes: wait for the Models page itself.
    await page.locator('#models-title').waitFor();
    await page.locator('main figure.chart svg').first().waitFor();
    expect(await page.evaluate(() => location.hash)).toBe('#/models');
    for (const p of ['data', 'models', 'users?user=3', 'items?item=7', 'service']) {
      await page.goto(`${base}/#/${p}`);
      await page.locator(`#${p.split('?')[0]}-title`).waitFor();
      await page.waitForTimeout(300);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), p).toBeLessThanOrEqual(800);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('`recsys dashboard` (results only): the Models page works, the model pages say there is no model', async () => {
    const page = await open(`${resultsBase}/#/models`);
    await page.locator('figure.chart svg').waitFor();
    await page.goto(`${resultsBase}/#/users`);
    await page.getByText('No model is served here').waitFor();
    await page.goto(`${resultsBase}/#/service`);
    await page.getByText('No model is served here').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });
});
