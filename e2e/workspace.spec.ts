/**
 * The workspace layout: at 1440×900 the model, the recipe with its live result and the graph are on one screen;
 * panes resize by keyboard and pointer and keep their size, collapsed state, tab and view across reloads; at
 * 1024×768 nothing overflows sideways and the recipe works; Evaluate keeps the recipe beside the lab; the separators
 * and tabs are reachable by keyboard.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, openCentreTab, openStudio, openView, test } from './support';

const leftRail = (page: Page) => page.getByRole('navigation', { name: 'Model' });
const recipe = (page: Page) => page.getByRole('complementary', { name: 'Recipe' });
const leftSeparator = (page: Page) => page.getByRole('separator', { name: 'Resize the model rail' });
const rightSeparator = (page: Page) => page.getByRole('separator', { name: 'Resize the recipe panel' });

async function width(locator: Locator): Promise<number> {
  return Math.round((await locator.boundingBox())!.width);
}

/** The element lies wholly inside the viewport. */
async function expectInViewport(page: Page, locator: Locator, what: string) {
  const box = (await locator.boundingBox())!;
  const viewport = page.viewportSize()!;
  expect(box, `${what} is laid out`).not.toBeNull();
  expect(box.x, `${what}: left edge`).toBeGreaterThanOrEqual(0);
  expect(box.y, `${what}: top edge`).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width, `${what}: right edge`).toBeLessThanOrEqual(viewport.width + 0.5);
  expect(box.y + box.height, `${what}: bottom edge`).toBeLessThanOrEqual(viewport.height + 0.5);
}

async function pageScroll(page: Page) {
  return page.evaluate(() => {
    const root = document.documentElement;
    return { x: root.scrollWidth - root.clientWidth, y: root.scrollHeight - root.clientHeight };
  });
}

test.describe('at 1440×900', () => {
  test.use({ viewport: { width: 1440, height: 900 } });

  test('the summary, the recipe with its live result and the graph are in view together, without scrolling the page', async ({ page }) => {
    await openStudio(page);
    await expect(page.getByTestId('compress-result')).toHaveAttribute('data-current', 'true');
    await expect(page.getByTestId('graph-canvas')).toHaveAttribute('data-drawn', /^[1-9]/);

    expect(await pageScroll(page), 'the page itself does not scroll').toEqual({ x: 0, y: 0 });
    await expectInViewport(page, page.getByTestId('model-name'), 'the model name');
    await expectInViewport(page, page.getByTestId('fact-file-size'), 'the file size');
    await expectInViewport(page, page.getByTestId('graph-canvas'), 'the graph');
    await expectInViewport(page, page.getByRole('combobox', { name: 'Preset' }), 'the preset');
    await expectInViewport(page, page.getByRole('switch', { name: 'Prune weights' }), 'the Prune switch');
    await expectInViewport(page, page.getByRole('switch', { name: 'Quantize weights' }), 'the Quantize switch');
    await expectInViewport(page, page.getByTestId('result-output-size'), 'the compressed size');
    await expectInViewport(page, page.getByRole('button', { name: 'Download', exact: true }), 'Download');

    // The landmarks name what is where.
    await expect(leftRail(page)).toBeVisible();
    await expect(page.getByRole('main', { name: 'Canvas' })).toBeVisible();
    await expect(recipe(page)).toBeVisible();

    // The recipe works from here: 4 bits, and the live result follows.
    await page.getByLabel('Bit width').fill('4');
    await expect(page.getByTestId('bits-field')).toContainText('4 bits');
    await expect(page.getByTestId('download-name')).toHaveText('mnist-cnn.q4.onnx');
    expect(await pageScroll(page)).toEqual({ x: 0, y: 0 });
  });

  test('panes resize by keyboard and by pointer; sizes, collapsed rails, tab and view survive a reload', async ({ page }) => {
    await openStudio(page);
    const sep = leftSeparator(page);
    await expect(sep).toHaveAttribute('aria-orientation', 'vertical');
    await expect(sep).toHaveAttribute('aria-controls', 'ws-left');
    await expect(sep).toHaveAttribute('aria-valuemin', /\d+/);
    await expect(sep).toHaveAttribute('aria-valuemax', /\d+/);
    const start = await width(leftRail(page));
    expect(Number(await sep.getAttribute('aria-valuenow'))).toBe(start);

    // Keyboard: arrows step 16 px (Shift: 64 px), Home is the narrowest.
    await sep.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    await expect.poll(() => width(leftRail(page))).toBe(start + 80);
    await expect(sep).toHaveAttribute('aria-valuenow', String(start + 80));
    await page.keyboard.press('Home');
    await expect(sep).toHaveAttribute('aria-valuenow', (await sep.getAttribute('aria-valuemin'))!);
    await page.keyboard.press('End');
    await expect(sep).toHaveAttribute('aria-valuenow', (await sep.getAttribute('aria-valuemax'))!);
    await page.keyboard.press('Enter');
    await expect(sep).toHaveAttribute('aria-valuenow', String(start));

    // Pointer: drag the recipe panel's separator 120 px to the left, so the recipe widens by 120 px.
    const recipeStart = await width(recipe(page));
    const box = (await rightSeparator(page).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - 60, box.y + box.height / 2, { steps: 4 });
    await page.mouse.move(box.x + box.width / 2 - 120, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => width(recipe(page))).toBe(recipeStart + 120);
    await expect(rightSeparator(page)).toHaveAttribute('aria-valuenow', String(recipeStart + 120));

    // And the left rail by keyboard once more, then the Layer tab, and a reload.
    await sep.focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await openCentreTab(page, 'layer');
    await page.reload();
    await expect(page.getByTestId('model-name')).toHaveText('mnist-cnn.onnx');
    await expect.poll(() => width(leftRail(page))).toBe(start - 32);
    await expect.poll(() => width(recipe(page))).toBe(recipeStart + 120);
    await expect(page.getByRole('tab', { name: 'Layer' })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('tensor-detail')).toBeVisible();
    await expect(page.getByTestId('graph-view')).toBeHidden();

    // Collapse the rail, switch to Evaluate, reload: both kept.
    await page.getByRole('button', { name: 'Hide the model rail' }).click();
    await expect(page.getByRole('button', { name: 'Show the model rail' })).toHaveAttribute('aria-expanded', 'false');
    await expect(page.getByTestId('tensor-panel')).toBeHidden();
    await openView(page, 'evaluate');
    await page.reload();
    await expect(page.getByTestId('model-name')).toHaveText('mnist-cnn.onnx');
    await expect(page.getByRole('tab', { name: 'Evaluate' })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('evaluate-panel')).toBeVisible();
    await openView(page, 'studio');
    await expect(page.getByRole('button', { name: 'Show the model rail' })).toBeVisible();
    await expect(page.getByTestId('tensor-panel')).toBeHidden();
    await page.getByRole('button', { name: 'Show the model rail' }).click();
    await expect(page.getByTestId('tensor-panel')).toBeVisible();
    await expect.poll(() => width(leftRail(page))).toBe(start - 32);
  });

  test('a stored layout that is not valid falls back to the defaults', async ({ page }) => {
    await page.addInitScript(() => localStorage.setItem('compression-studio.layout.v1', '{"left": "wide", "view": 42, "tab": "layer"'));
    await openStudio(page);
    await expect(page.getByRole('tab', { name: 'Studio' })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByRole('tab', { name: 'Graph' })).toHaveAttribute('aria-selected', 'true');
    await expect(leftSeparator(page)).toHaveAttribute('aria-valuenow', '320');
  });

  test('Evaluate shows the lab with the recipe still beside it', async ({ page }) => {
    await openStudio(page);
    await expect(page.getByTestId('compress-result')).toHaveAttribute('data-current', 'true');
    await openView(page, 'evaluate');
    await expect(page.getByRole('main', { name: 'Evaluate' })).toBeVisible();
    await expect(page.getByTestId('evaluate-panel')).toBeVisible();
    await expect(page.getByTestId('sweep')).toBeAttached();
    await expect(leftRail(page)).toBeHidden();
    await expect(recipe(page)).toBeVisible();
    await expectInViewport(page, page.getByRole('switch', { name: 'Quantize weights' }), 'the Quantize switch');
    await expectInViewport(page, page.getByRole('button', { name: 'Download', exact: true }), 'Download');
    expect(await pageScroll(page)).toEqual({ x: 0, y: 0 });
    // The recipe still drives the result from the lab's view.
    await page.getByLabel('Bit width').fill('4');
    await expect(page.getByTestId('download-name')).toHaveText('mnist-cnn.q4.onnx');
  });

  test('the keyboard reaches the skip links, the view and centre tabs and the separators', async ({ page }) => {
    await openStudio(page);
    await page.keyboard.press('Tab');
    await expect(page.getByRole('link', { name: 'Skip to the canvas' })).toBeFocused();
    await page.keyboard.press('Tab');
    await expect(page.getByRole('link', { name: 'Skip to the recipe' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(recipe(page)).toBeFocused();

    // Tab from the top of the page until each control has had focus.
    const wanted = new Map<string, Locator>([
      ['view tab', page.getByRole('tab', { name: 'Studio' })],
      ['rail separator', leftSeparator(page)],
      ['centre tab', page.getByRole('tab', { name: 'Graph' })],
      ['recipe separator', rightSeparator(page)],
    ]);
    await page.getByRole('link', { name: 'Skip to the canvas' }).focus();
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < wanted.size; i++) {
      await page.keyboard.press('Tab');
      for (const [name, locator] of wanted) if (!seen.has(name) && (await locator.evaluate((el) => el === document.activeElement))) seen.add(name);
    }
    expect([...seen].sort()).toEqual([...wanted.keys()].sort());

    // Arrow keys move between tabs (and select them).
    await page.getByRole('tab', { name: 'Graph' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.getByRole('tab', { name: 'Layer' })).toBeFocused();
    await expect(page.getByRole('tab', { name: 'Layer' })).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('Home');
    await expect(page.getByRole('tab', { name: 'Graph' })).toHaveAttribute('aria-selected', 'true');
    await page.getByRole('tab', { name: 'Studio' }).focus();
    await page.keyboard.press('End');
    await expect(page.getByRole('tab', { name: 'Evaluate' })).toBeFocused();
    await expect(page.getByTestId('evaluate-panel')).toBeVisible();
  });
});

test.describe('at 1024×768', () => {
  test.use({ viewport: { width: 1024, height: 768 } });

  test('no sideways overflow, the recipe keeps its minimum width and works', async ({ page }) => {
    await openStudio(page);
    await expect(page.getByTestId('compress-result')).toHaveAttribute('data-current', 'true');
    expect(await pageScroll(page), 'the page does not scroll').toEqual({ x: 0, y: 0 });
    expect(await width(recipe(page))).toBeGreaterThanOrEqual(320);
    expect(await width(page.getByRole('main', { name: 'Canvas' }))).toBeGreaterThanOrEqual(340);
    await expectInViewport(page, page.getByRole('switch', { name: 'Quantize weights' }), 'the Quantize switch');
    await expectInViewport(page, page.getByRole('button', { name: 'Download', exact: true }), 'Download');
    await page.getByLabel('Bit width').fill('4');
    await expect(page.getByTestId('download-name')).toHaveText('mnist-cnn.q4.onnx');
    // Widening the recipe as far as it goes still leaves no sideways overflow.
    await rightSeparator(page).focus();
    await page.keyboard.press('End');
    expect((await pageScroll(page)).x).toBe(0);
  });
});

test.describe('below 900 px', () => {
  test.use({ viewport: { width: 800, height: 900 } });

  test('the panes stack and the page scrolls, with nothing sideways', async ({ page }) => {
    await openStudio(page);
    await expect(page.getByTestId('compress-result')).toHaveAttribute('data-current', 'true');
    await expect(page.getByRole('separator')).toHaveCount(0);
    const scroll = await pageScroll(page);
    expect(scroll.x).toBe(0);
    expect(scroll.y).toBeGreaterThan(0);
    const rail = (await leftRail(page).boundingBox())!;
    const centre = (await page.getByRole('main', { name: 'Canvas' }).boundingBox())!;
    expect(centre.y).toBeGreaterThanOrEqual(rail.y + rail.height - 1);
  });
});
