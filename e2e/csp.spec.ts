/**
 * The built app carries a Content-Security-Policy: the demo model opens, compresses and is analysed with it in
 * force (any violation is a console error, which fails the test), and an injected inline script does not run.
 */
import { test } from '@playwright/test';
import { expect, openStudio } from './support';

test('the app runs under its Content-Security-Policy, which blocks inline scripts and foreign origins', async ({ page }) => {
  const violations: string[] = [];
  // This spec provokes console errors on purpose (blocked script, blocked fetch), so it checks errors itself.
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { reportViolation: (v: string) => void }).reportViolation(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  await openStudio(page);
  const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(policy).toMatch(/script-src 'self' 'wasm-unsafe-eval';/);
  expect(policy).not.toContain("'unsafe-eval'");
  // The default recipe compresses the demo as soon as it opens (wasm kernels, the model worker).
  await expect(page.getByTestId('compress-result')).toHaveAttribute('data-current', 'true', { timeout: 30_000 });
  expect(violations).toEqual([]);
  expect(errors).toEqual([]);
  // What the policy is for: an inline script injected into the page does not run, nor does a foreign fetch.
  const blocked = await page.evaluate(async () => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true';
    document.body.append(script);
    const fetched = await fetch('https://example.com/').then(
      () => true,
      () => false,
    );
    return { ran: (window as unknown as { __injected?: boolean }).__injected === true, fetched };
  });
  expect(blocked).toEqual({ ran: false, fetched: false });
  await expect.poll(() => violations.length).toBeGreaterThanOrEqual(2);
});
