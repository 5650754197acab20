/**
 * Memory budget: what a task will allocate is estimated from the catalog before it starts, so a model too big for
 * the machine gets a clear error instead of an out-of-memory crash. The estimate is deliberately simple and on the
 * safe side: the bytes held (model file, external data read in, the written output) plus the working set of the
 * largest tensor (float32 values and two copies: sorted values for percentiles, codes or a densified sparse tensor).
 */
import type { OpenedModel } from './onnx/open';
import { ModelInputError } from './onnx/types';

export type MemoryTask = 'stats' | 'compress';

/** Float32 copies of the largest tensor a task holds at once. */
const WORKING_COPIES = 3;

export function estimatePeakBytes(opened: Pick<OpenedModel, 'fileBytes' | 'dataFiles' | 'catalog'>, task: MemoryTask): number {
  const external = [...opened.dataFiles.values()].reduce((n, f) => n + f.size, 0);
  let largest = 0;
  for (const e of opened.catalog.entries) largest = Math.max(largest, e.elements);
  const working = largest * 4 * WORKING_COPIES;
  // compress: the external data is read in, and the output (at most the input's size) is encoded beside it.
  const held = task === 'compress' ? 2 * (opened.fileBytes + external) : opened.fileBytes;
  return held + working;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 2 : 1)} GiB`;

/** Throws a clear error when the task's estimate is over `budget` bytes. */
export function checkMemoryBudget(
  opened: Pick<OpenedModel, 'fileName' | 'fileBytes' | 'dataFiles' | 'catalog'>,
  task: MemoryTask,
  budget: number | undefined,
): void {
  if (budget === undefined) return;
  const need = estimatePeakBytes(opened, task);
  if (need > budget) {
    throw new ModelInputError(
      `${task === 'compress' ? 'Compressing' : 'Analysing'} ${opened.fileName} needs about ${gib(need)} of memory, over the budget of ${gib(budget)}. ` +
        'Raise the budget (CLI: --memory-budget) on a machine with more memory, or exclude the largest tensors.',
    );
  }
}

/** The default budget in a browser: half the device memory it reports (navigator.deviceMemory, in GiB; capped at 8 by browsers), else 2 GiB. */
export function browserMemoryBudget(deviceMemoryGiB: number | undefined): number {
  return (deviceMemoryGiB && deviceMemoryGiB > 0 ? deviceMemoryGiB / 2 : 2) * 2 ** 30;
}
