/**
 * Screenshots of the dashboard's pages for the docs: `npx tsx scripts/dashboard-screenshots.ts URL USER ITEM [OUT]`
 * against a running `recsys serve … ` (Debian's Chromium, headless, fresh profile; 1,280 px wide). Posts one
 * event for USER (the top recommendation) so the User explorer shows the fold-in. OUT defaults to docs/dashboard.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, user, item, out = 'docs/dashboard'] = process.argv.slice(2);
if (!url || !user || !item) {
  process.stderr.write('usage: tsx scripts/dashboard-screenshots.ts URL USER ITEM [OUT]\n');
  process.exit(2);
}
const profile = await mkdtemp(join(tmpdir(), 'recsys-chromium-'));
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args, viewport: { width: 1280, height: 900 } });
try {
  await mkdir(out, { recursive: true });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') process.stderr.write(`console error: ${m.text()}\n`);
  });
  const shot = async (name: string, ready: string, hash: string): Promise<void> => {
    await page.goto(`${url}/#/${hash}`);
    await page.locator(ready).first().waitFor();
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
    process.stdout.write(`wrote ${join(out, `${name}.png`)}\n`);
  };
  await shot('data', 'figure.chart svg', 'data');
  await shot('models', 'figure.chart svg', 'models');
  await page.goto(`${url}/#/users?user=${encodeURIComponent(user)}`);
  const first = page.locator('ol[data-list="Explored"] > li').first();
  await first.waitFor();
  const top = await first.getAttribute('data-item');
  await page.getByRole('button', { name: `Post a view of item ${top}` }).click();
  await page.getByRole('status').filter({ hasText: 'stored' }).waitFor();
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(out, 'users.png'), fullPage: true });
  process.stdout.write(`wrote ${join(out, 'users.png')}\n`);
  await shot('items', 'figure.chart svg', `items?item=${encodeURIComponent(item)}`);
  // Some traffic while the Service page polls, so that the rate has a history.
  await page.goto(`${url}/#/service`);
  for (let j = 0; j < 24; j++) {
    await page.evaluate(async (u) => {
      await Promise.all(Array.from({ length: 5 + (u % 4) * 5 }, () => fetch(`/v1/recommendations?user=${u}&k=10`)));
    }, j);
    await page.waitForTimeout(500);
  }
  await page.screenshot({ path: join(out, 'service.png'), fullPage: true });
  process.stdout.write(`wrote ${join(out, 'service.png')}\n`);
} finally {
  await context.close();
  await rm(profile, { recursive: true, force: true });
}
