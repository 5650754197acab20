import { memo, useId, useMemo, useState, type ChangeEvent } from 'react';
import { defaultImagePrep, IMAGENET_MEAN, IMAGENET_STD, type ImagePrep } from '../../core/eval/data/image';
import { dynamicDims, type FloatDistribution } from '../../core/eval/synthetic';
import type { ValueInfo } from '../../core/onnx/types';
import type { DataSource } from '../../state/store';
import { useStudio } from '../../state/store';
import { Field } from '../kit/Field';
import { Segmented } from '../kit/Segmented';
import { formatInteger } from '../format';
import { parseNumberList } from './readings';
import { NumberInput } from '../kit/controls';

const FLOATS: { value: FloatDistribution; label: string; help: string }[] = [
  { value: 'normal', label: 'N(0, 1)', help: 'Bell-shaped values around 0 with standard deviation 1: typical of normalised inputs.' },
  { value: 'uniform01', label: 'Uniform 0–1', help: 'Values spread evenly between 0 and 1: like pixels divided by 255.' },
  { value: 'uniform11', label: 'Uniform −1–1', help: 'Values spread evenly between −1 and 1: like audio samples or pixels scaled to ±1.' },
];

/** The evaluation data: demo digits, synthetic inputs or the person's own files, with image preprocessing. */
export const DataPanel = memo(function DataPanel({ inputs }: { inputs: ValueInfo[] }) {
  const isDemo = useStudio((s) => s.isDemo);
  const data = useStudio((s) => s.evalData);
  const chooseDemoData = useStudio((s) => s.chooseDemoData);
  const chooseSyntheticData = useStudio((s) => s.chooseSyntheticData);
  const [tab, setTab] = useState<DataSource>(data.source);
  const shown: DataSource = tab === 'demo' && !isDemo ? 'synthetic' : tab;

  const options: { value: DataSource; label: string; help: string; disabled?: boolean }[] = [
    ...(isDemo
      ? [
          {
            value: 'demo' as const,
            label: 'Demo digits',
            help: '500 labelled MNIST test digits that ship with the studio (never used to train the demo model).',
          },
        ]
      : []),
    { value: 'synthetic', label: 'Synthetic', help: 'Random inputs generated from the model’s input shapes: quick, but fidelity on noise can mislead.' },
    { value: 'files', label: 'My files', help: 'Your own images, .npy or .json tensors, and an optional labels .csv — read in this browser, never uploaded.' },
  ];

  const choose = (source: DataSource) => {
    setTab(source);
    if (source === 'demo') void chooseDemoData();
    else if (source === 'synthetic') void chooseSyntheticData();
  };

  return (
    <section className="lab-section" aria-labelledby="eval-data-title" data-testid="eval-data">
      <header className="lab-section__header">
        <h3 className="lab-section__title" id="eval-data-title">
          Evaluation data
        </h3>
        <p className="card__help">
          The inputs both models run on. Real, labelled data gives accuracy; any data gives fidelity (how closely the compressed model follows the original).
        </p>
      </header>
      <Field label="Source">
        <Segmented<DataSource> label="Evaluation data source" options={options} value={shown} onChange={choose} testId="data-source" />
      </Field>
      {shown === 'synthetic' && <SyntheticControls inputs={inputs} />}
      {shown === 'files' && <FileControls inputs={inputs} />}
      <DataStatus isDemo={isDemo} />
    </section>
  );
});

function SyntheticControls({ inputs }: { inputs: ValueInfo[] }) {
  const synthetic = useStudio((s) => s.evalData.synthetic);
  const chooseSyntheticData = useStudio((s) => s.chooseSyntheticData);
  const dims = useMemo(() => dynamicDims(inputs), [inputs]);
  const [count, setCount] = useState(synthetic.count);
  const [dimValues, setDimValues] = useState<Record<string, number>>(() =>
    Object.fromEntries(dims.map((d) => [d.key, synthetic.dims[d.key] ?? d.defaultValue])),
  );
  const [floats, setFloats] = useState<FloatDistribution>(synthetic.floats);
  const floatsId = useId();
  const floatHelp = FLOATS.find((f) => f.value === floats)!.help;
  return (
    <form
      className="lab-subform"
      aria-label="Synthetic inputs"
      onSubmit={(e) => {
        e.preventDefault();
        void chooseSyntheticData({ count, dims: dimValues, floats });
      }}
    >
      <div className="lab-row">
        <NumberInput
          label="Inputs"
          value={count}
          min={1}
          max={10_000}
          onCommit={setCount}
          help="How many random inputs to generate (1–10,000)."
          testId="synthetic-count"
        />
        {dims.map((d) => (
          <NumberInput
            key={d.key}
            label={d.key.includes(':') ? `${d.input} axis ${d.axis}` : d.key}
            value={dimValues[d.key] ?? d.defaultValue}
            min={1}
            max={100_000}
            onCommit={(v) => setDimValues((prev) => ({ ...prev, [d.key]: v }))}
            help={`Value for the dynamic dimension “${d.key}” of input ${d.input} (axis ${d.axis}); default ${d.defaultValue}.`}
          />
        ))}
        <span className="lab-number">
          <label htmlFor={floatsId}>Float values</label>
          <select
            id={floatsId}
            className="select"
            value={floats}
            onChange={(e) => setFloats(e.currentTarget.value as FloatDistribution)}
            aria-describedby={`${floatsId}-help`}
          >
            {FLOATS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </span>
        <button type="submit" className="button button--small">
          Generate inputs
        </button>
      </div>
      <p className="cfield__help" id={`${floatsId}-help`}>
        {floatHelp} Integer inputs draw from 0–99. {dims.length > 0 ? 'Dynamic dimensions take the values above.' : 'The model has no dynamic dimensions.'}
      </p>
    </form>
  );
}

function filesOf(e: ChangeEvent<HTMLInputElement>): { file: File; path: string }[] {
  return [...(e.currentTarget.files ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

function FileControls({ inputs }: { inputs: ValueInfo[] }) {
  const chooseFileData = useStudio((s) => s.chooseFileData);
  const folderId = useId();
  const filesId = useId();
  const folderProps = { webkitdirectory: '', directory: '' } as Record<string, string>;
  return (
    <div className="lab-subform">
      <div className="lab-row">
        <span className="lab-file">
          <label htmlFor={folderId}>A folder</label>
          <input
            id={folderId}
            type="file"
            multiple
            {...folderProps}
            aria-describedby={`${folderId}-help`}
            data-testid="data-folder"
            onChange={(e) => {
              const files = filesOf(e);
              if (files.length) void chooseFileData(files);
            }}
          />
        </span>
        <span className="lab-file">
          <label htmlFor={filesId}>Or files</label>
          <input
            id={filesId}
            type="file"
            multiple
            accept="image/*,.png,.jpg,.jpeg,.webp,.bmp,.gif,.npy,.npz,.json,.csv"
            aria-describedby={`${folderId}-help`}
            data-testid="data-files"
            onChange={(e) => {
              const files = filesOf(e);
              if (files.length) void chooseFileData(files);
            }}
          />
        </span>
      </div>
      <p className="cfield__help" id={`${folderId}-help`}>
        Images (PNG, JPEG, WebP…) — labelled by their sub-folder names when there are several (e.g. cats/, dogs/) — or .npy / .json tensors, plus an optional
        labels .csv (file name, label). Files stay on this computer.
      </p>
      <ImagePrepControls inputs={inputs} />
    </div>
  );
}

function safeDefaultPrep(input: ValueInfo | undefined): ImagePrep | undefined {
  if (!input) return undefined;
  try {
    return defaultImagePrep(input);
  } catch {
    return undefined;
  }
}

const RESIZE_OPTIONS: { value: ImagePrep['resize']; label: string; help: string }[] = [
  { value: 'stretch', label: 'Stretch', help: 'Resize to the target size, ignoring the aspect ratio.' },
  { value: 'center-crop', label: 'Centre crop', help: 'Cover the target size keeping the aspect ratio, then cut what overflows.' },
  { value: 'letterbox', label: 'Letterbox', help: 'Fit inside the target size keeping the aspect ratio; pad the rest with black.' },
];
const SCALE_OPTIONS: { value: ImagePrep['scale']; label: string; help: string }[] = [
  { value: '0-1', label: '0–1', help: 'Pixel ÷ 255.' },
  { value: '0-255', label: '0–255', help: 'Pixels as they are (uint8 models).' },
  { value: '-1-1', label: '−1–1', help: 'Pixel ÷ 127.5 − 1.' },
];

function ImagePrepControls({ inputs }: { inputs: ValueInfo[] }) {
  const image = useStudio((s) => s.evalData.image);
  const setImagePrep = useStudio((s) => s.setImagePrep);
  const defaults = safeDefaultPrep(inputs[0]);
  const prep = { width: 224, height: 224, resize: 'stretch', channels: 'rgb', layout: 'nchw', scale: '0-1', ...defaults, ...image } as ImagePrep;
  const resizeId = useId();
  const scaleId = useId();
  const [meanText, setMeanText] = useState((prep.mean ?? []).join(', '));
  const [stdText, setStdText] = useState((prep.std ?? []).join(', '));
  const [listError, setListError] = useState<string | null>(null);
  const commitList = (which: 'mean' | 'std', text: string) => {
    const values = parseNumberList(text);
    if (values === null) {
      setListError(`The ${which} must be numbers separated by commas, e.g. 0.485, 0.456, 0.406.`);
      return;
    }
    setListError(null);
    setImagePrep({ [which]: values });
  };
  const imagenet = () => {
    setMeanText(IMAGENET_MEAN.join(', '));
    setStdText(IMAGENET_STD.join(', '));
    setListError(null);
    setImagePrep({ scale: '0-1', mean: IMAGENET_MEAN, std: IMAGENET_STD });
  };
  return (
    <fieldset className="lab-fieldset" data-testid="image-prep">
      <legend>Image preprocessing</legend>
      <p className="cfield__help">
        Applies to image files only (.npy / .json tensors are fed as they are). Defaults come from the model’s first input
        {defaults ? ` (${defaults.layout.toUpperCase()}, ${defaults.width}×${defaults.height}, ${defaults.channels})` : ''}; changing a setting reloads the
        files.
      </p>
      <div className="lab-row">
        <NumberInput
          label="Width"
          unit="px"
          value={prep.width}
          min={1}
          max={4096}
          onCommit={(width) => setImagePrep({ width })}
          help="Width the images are resized to, in pixels."
        />
        <NumberInput
          label="Height"
          unit="px"
          value={prep.height}
          min={1}
          max={4096}
          onCommit={(height) => setImagePrep({ height })}
          help="Height the images are resized to, in pixels."
        />
        <span className="lab-number">
          <label htmlFor={resizeId}>Resize</label>
          <select
            id={resizeId}
            className="select"
            value={prep.resize}
            title={RESIZE_OPTIONS.find((r) => r.value === prep.resize)?.help}
            onChange={(e) => setImagePrep({ resize: e.currentTarget.value as ImagePrep['resize'] })}
          >
            {RESIZE_OPTIONS.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </span>
        <span className="lab-number">
          <label htmlFor={scaleId}>Scale</label>
          <select
            id={scaleId}
            className="select"
            value={prep.scale}
            title={SCALE_OPTIONS.find((r) => r.value === prep.scale)?.help}
            onChange={(e) => setImagePrep({ scale: e.currentTarget.value as ImagePrep['scale'] })}
          >
            {SCALE_OPTIONS.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label} ({r.help})
              </option>
            ))}
          </select>
        </span>
      </div>
      <div className="lab-row">
        <Field label="Channels">
          <Segmented<ImagePrep['channels']>
            label="Channel order"
            small
            options={[
              { value: 'rgb', label: 'RGB', help: 'Red, green, blue (most models).' },
              { value: 'bgr', label: 'BGR', help: 'Blue, green, red (OpenCV / Caffe-trained models).' },
              { value: 'gray', label: 'Gray', help: 'One luminance channel (0.299 R + 0.587 G + 0.114 B).' },
            ]}
            value={prep.channels}
            onChange={(channels) => setImagePrep({ channels })}
          />
        </Field>
        <Field label="Layout">
          <Segmented<ImagePrep['layout']>
            label="Tensor layout"
            small
            options={[
              { value: 'nchw', label: 'NCHW', help: 'Channels first: [1, C, H, W] (PyTorch exports).' },
              { value: 'nhwc', label: 'NHWC', help: 'Channels last: [1, H, W, C] (TensorFlow exports).' },
            ]}
            value={prep.layout}
            onChange={(layout) => setImagePrep({ layout })}
          />
        </Field>
      </div>
      <div className="lab-row">
        <ChannelListInput
          label="Mean"
          placeholder="0"
          value={meanText}
          onChange={setMeanText}
          onCommit={() => commitList('mean', meanText)}
          help="Subtracted per channel after scaling; one value applies to all channels."
        />
        <ChannelListInput
          label="Std"
          placeholder="1"
          value={stdText}
          onChange={setStdText}
          onCommit={() => commitList('std', stdText)}
          help="Divides each channel after the mean is subtracted; one value applies to all channels."
        />
        <button
          type="button"
          className="button button--small"
          onClick={imagenet}
          title="Scale 0–1, mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225: what most ImageNet-trained models expect."
        >
          ImageNet
        </button>
      </div>
      {listError && (
        <p className="lab-error" role="alert">
          {listError}
        </p>
      )}
    </fieldset>
  );
}

function DataStatus({ isDemo }: { isDemo: boolean }) {
  const data = useStudio((s) => s.evalData);
  const chooseDemoData = useStudio((s) => s.chooseDemoData);
  const chooseSyntheticData = useStudio((s) => s.chooseSyntheticData);
  if (data.status === 'loading') {
    return (
      <p className="lab-status" role="status" data-testid="data-loading">
        <span className="spinner spinner--tiny" aria-hidden="true" /> Loading the{' '}
        {data.source === 'demo' ? 'demo digits' : data.source === 'files' ? `${formatInteger(data.fileCount)} files` : 'synthetic inputs'}…
      </p>
    );
  }
  if (data.status === 'error') {
    return (
      <div className="banner banner--error" role="alert" data-testid="data-error">
        <div className="banner__body">
          <p className="banner__title">The evaluation data could not be loaded</p>
          <p className="banner__message">{data.error}</p>
          <p className="banner__note">Choose other files or another source above.</p>
        </div>
      </div>
    );
  }
  if (data.status === 'idle' || !data.summary) {
    const demo = data.source === 'demo' && isDemo;
    return (
      <p className="lab-status" data-testid="data-idle">
        Nothing loaded yet: {demo ? 'the 500 demo digits' : 'synthetic inputs'} load when you first run something.{' '}
        <button type="button" className="link-button" onClick={() => void (demo ? chooseDemoData() : chooseSyntheticData())}>
          Load now
        </button>
      </p>
    );
  }
  const s = data.summary;
  const classes = s.classNames ?? [];
  return (
    <div className="lab-dataset" data-testid="data-summary">
      <p className="lab-dataset__name">
        <strong data-testid="data-name">{s.name}</strong>
      </p>
      <p className="card__help">{s.description}</p>
      <dl className="lab-facts">
        <div className="lab-fact">
          <dt>Samples</dt>
          <dd data-testid="data-samples">{formatInteger(s.samples)}</dd>
        </div>
        <div className="lab-fact">
          <dt>Labelled</dt>
          <dd data-testid="data-labelled">{s.labelled > 0 ? `${formatInteger(s.labelled)} (accuracy is measured)` : 'none (fidelity only)'}</dd>
        </div>
        {classes.length > 0 && (
          <div className="lab-fact">
            <dt>Classes</dt>
            <dd title={classes.join(', ')}>
              {classes.slice(0, 12).join(', ')}
              {classes.length > 12 ? ` … (${classes.length})` : ''}
            </dd>
          </div>
        )}
        <div className="lab-fact">
          <dt>Input shapes</dt>
          <dd className="mono" data-testid="data-shapes">
            {Object.entries(s.shapes)
              .map(([name, dims]) => `${name} [${dims.join(', ')}]`)
              .join('; ')}
          </dd>
        </div>
      </dl>
      {s.synthetic && (
        <div className="banner banner--warning" data-testid="synthetic-warning">
          <div className="banner__body">
            <p className="banner__title">Synthetic data</p>
            <p className="banner__message">Fidelity on random inputs can mislead — use real data for decisions. There are no labels, so no accuracy either.</p>
          </div>
        </div>
      )}
    </div>
  );
}

/** A comma-separated per-channel list (mean or std), committed on Enter or when focus leaves. */
function ChannelListInput(props: { label: string; placeholder: string; value: string; help: string; onChange(text: string): void; onCommit(): void }) {
  const id = useId();
  return (
    <span className="lab-number">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        className="input lab-list-input"
        placeholder={props.placeholder}
        value={props.value}
        title={props.help}
        onChange={(e) => props.onChange(e.currentTarget.value)}
        onBlur={props.onCommit}
        onKeyDown={(e) => e.key === 'Enter' && props.onCommit()}
      />
    </span>
  );
}
