/** Labels and plain-language help for the pruning controls. */
import type { PruneRecipe } from '../../../core/recipe';

export const PRUNE_HELP =
  'Removes the weights (or whole output channels) that matter least, judged by their magnitude (or, with SparseGPT, by what they add to each layer’s output on calibration data). Runs before quantization.';

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
    help: 'Removes whole channels with the smallest norm and rewrites every layer that makes or reads them: the file and the compute (MACs) really shrink. Layers joined by a residual Add, a gate or a Concat lose the same channels (a channel group).',
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

export const CHANNEL_SPARSITY_HELP =
  'The share of channels removed from each channel group (layers joined by a residual Add, a gate or a Concat lose the same ones). Kept counts are rounded so the pruned layers stay fast: to multiples of 16 in groups of 64+ channels, of 8 from 32, of 4 from 16.';

export const GROUP_SCOPE_HELP = {
  layer: 'Every channel group loses the same share of its channels.',
  global:
    'Channels of all groups ranked together (each against its group’s average importance): groups with many weak channels lose more; the cap keeps any one group from being emptied.',
};

export const GROUP_IMPORTANCE_HELP = {
  sum: 'A channel’s importance is the sum of its norms in every layer of the group (layers that make it and layers that read it): large groups weigh more.',
  mean: 'A channel’s importance is the mean of its norms over the layers of the group, so groups of different sizes compare evenly (matters with Global).',
};

/** The pruning method (unstructured and N:M masks); channel pruning always ranks channels by norm. */
export const PRUNE_METHODS: { value: NonNullable<PruneRecipe['method']>; label: string; help: string }[] = [
  {
    value: 'magnitude',
    label: 'Magnitude',
    help: 'Removes the weights with the smallest values. Instant, needs no data.',
  },
  {
    value: 'sparsegpt',
    label: 'SparseGPT (uses calibration data)',
    help: 'Runs the original model on calibration data (the Evaluation lab’s data) to see what each layer receives, removes the weights whose loss changes the layer’s output least, and adjusts the weights that stay to make up for the ones removed. Same sparsity and size as magnitude, usually much closer to the original; the run takes longer.',
  },
];

export const CHANNEL_METHOD_HELP = 'Channel pruning always ranks channels by their norm (magnitude): SparseGPT applies to unstructured, 2:4 and 4:8 pruning.';
