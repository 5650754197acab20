/** Labels and plain-language help for the pruning controls. */
import type { PruneRecipe } from '../../../core/recipe';

export const PRUNE_HELP =
  'Removes the weights (or whole output channels) that matter least, judged by their magnitude. Runs before quantization.';

export const SPARSITY_HELP = 'The share of weights set to zero (or of output channels removed, for structured channels).';

export const PATTERNS: { value: PruneRecipe['pattern']; label: string; help: string }[] = [
  {
    value: 'unstructured',
    label: 'Unstructured',
    help: 'Zeroes the smallest weights wherever they are. Keeps the most accuracy, but the file stays dense: zeros are still stored, so the size only drops once compressed (gzip) or quantized.',
  },
  {
    value: '2:4',
    label: '2:4',
    help: 'In every group of 4 weights along the input axis, keeps the 2 largest: the pattern sparse tensor cores accelerate. Sparsity is fixed at 50%.',
  },
  { value: '4:8', label: '4:8', help: 'In every group of 8 weights, keeps the 4 largest: a little more freedom than 2:4. Sparsity is fixed at 50%.' },
  {
    value: 'channel',
    label: 'Channels (structured)',
    help: 'Removes whole output channels with the smallest norm and rewrites the layers that read them: the file and the compute (MACs) really shrink.',
  },
];

export const SCOPE_HELP = {
  layer: 'Every layer loses the same share of its weights.',
  global: 'One magnitude threshold across all layers: layers with many small weights lose more; the cap keeps any one layer from being emptied.',
};

export const NORM_HELP = {
  l1: 'Rank channels by the sum of absolute weights.',
  l2: 'Rank channels by the square root of the sum of squared weights (favours channels with a few large weights).',
};
