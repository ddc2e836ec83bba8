import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { chooseBrowser, DEBIAN_CHROMIUM } from '../support/browser-path.js';

describe('the browser the tests drive', () => {
  it('is the npm package chromium when forced, a binary that runs here', () => {
    const choice = chooseBrowser({ FIRELAKE_BROWSER: 'npm' });
    expect(choice.source).toBe('npm');
    expect(choice.path).toContain('node_modules/.cache/firelake-chromium/');
    expect(execFileSync(choice.path, ['--version'], { encoding: 'utf8' })).toMatch(/^Chromium \d+\./);
  });

  it("is Debian's when installed and not forced away, else the npm package's", () => {
    const choice = chooseBrowser({});
    expect(choice.source).toBe(existsDebian() ? 'debian' : 'npm');
  });

  it('refuses a forcing it does not know, and a FIRELAKE_CHROMIUM that is not there', () => {
    expect(() => chooseBrowser({ FIRELAKE_BROWSER: 'firefox' })).toThrow(
      /FIRELAKE_BROWSER=firefox: expected npm or debian/,
    );
    expect(() => chooseBrowser({ FIRELAKE_CHROMIUM: '/nonexistent/chrome' })).toThrow(/no such file/);
  });
});

function existsDebian(): boolean {
  try {
    execFileSync(DEBIAN_CHROMIUM, ['--version']);
    return true;
  } catch {
    return false;
  }
}
