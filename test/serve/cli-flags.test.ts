import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/helpers.js';

describe('recsys serve flags', () => {
  it('--commit-interval must be milliseconds in 0..1000: anything else is a usage error (exit 2) naming the flag', async () => {
    for (const bad of ['-1', 'soon', '', '5000']) {
      const r = await runCli(['serve', '--model', '/nonexistent/model', '--commit-interval', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--commit-interval must be a number of milliseconds in 0\.\.1000/);
    }
  });
});
