/**
 * Channel dependencies of an ONNX graph, for structured pruning: which output channels must be removed together.
 *
 * Every output channel a prunable layer makes (Conv, ConvTranspose, Gemm, MatMul with a stored weight) is one
 * element. The main graph is walked once in order, following for every value which element each index of its
 * channel axis holds (an array of element ids), through the op-traits table's channel flows: activations and
 * normalizations pass them on, Concat joins the arrays, Split/Slice cut them, Flatten/Reshape repeat them, a
 * depthwise Conv follows them. Ops that compute one channel from the same channel of two inputs (a residual Add,
 * a gate Mul, Max/Min…) unite the elements they align — a union-find over elements. Every stored tensor that
 * holds one slice per channel (a producer's weight rows, a consumer's weight columns, BatchNormalization
 * parameters, a broadcast constant) is recorded with the element of each of its indices, and so is every
 * attribute or shape constant that names a channel count.
 *
 * After the walk each connected set of elements is one channel that can be removed everywhere at once; channels
 * whose members are the same layers form a group (a residual stage, a squeeze-excitation block, a Concat's
 * inputs). Channels that reach something the analysis cannot rewrite — a graph output, a Shape whose channel
 * count is used, an op with no channel rule, a tensor also read elsewhere — are kept, with the reason.
 *
 * The idea of grouping coupled channels follows DepGraph (Fang et al., CVPR 2023; torch-pruning); this is an
 * independent implementation for ONNX graphs.
 */
import type { GraphProto, NodeProto } from 'onnx-buf';
import { nodeLabel, type CatalogEntry, type TensorCatalog } from '../../onnx/catalog';
import { attr, getInt, getInts, int64Vector, isDefaultDomain, setAttr, type NameScope } from '../../onnx/graph-edit';
import { opTraits } from '../../onnx/op-traits';
import { constantNamed } from '../../onnx/weight-use';
import { normalizeAxis, sliceParams, splitSizes, type ShapeInfo } from '../../analysis/shapes';
import { DataType } from '../../tensor/dtypes';
import type { ModelProto } from 'onnx-buf';

/** What a sliced tensor is to its group. */
export type MemberRole = 'produces' | 'follows' | 'reads' | 'scales';

/** A stored tensor cut along one axis: index i of the axis holds channel element ids[i]. */
export interface TensorSlice {
  entry: CatalogEntry;
  axis: number;
  ids: Int32Array;
  role: MemberRole;
  /** The layer (node label) and op that read it this way. */
  layer: string;
  op: string;
  /** The nodes (and input slots) registered as reading it this way. */
  readers: { node: NodeProto; input: number }[];
}

/** A layer whose output channels are elements. */
export interface Producer {
  index: number;
  node: NodeProto;
  layer: string;
  op: string;
  weight: CatalogEntry;
  channels: number;
  /** Element id of its channel 0 (its channels are consecutive). */
  first: number;
}

/** An edit of a node or shape constant that names a channel count, applied once the kept channels are known. */
export interface CountEdit {
  layer: string;
  what: string;
  apply(kept: (element: number) => boolean, ctx: EditContext): void;
}

export interface EditContext {
  graph: GraphProto;
  names: NameScope;
  /** Names of constants a node stopped reading (replaced by a new one): removed afterwards when nothing else reads them. */
  retired: Set<string>;
}

export interface GroupMember {
  slice: TensorSlice;
  /** Indices of the slice's axis that belong to this group. */
  channels: number;
}

/** Channels that move together: same producing layers, same consumers. */
export interface ChannelGroup {
  id: number;
  /** Dense component ids (see ChannelAnalysis.componentOf), one per channel of the group. */
  components: number[];
  members: GroupMember[];
  producers: Producer[];
  /** Why the group is kept whole (undefined when it can be pruned). */
  blocked?: string;
  /** A short name: its first producer's layer, and how many more. */
  label: string;
}

export interface ChannelAnalysis {
  groups: ChannelGroup[];
  slices: TensorSlice[];
  edits: CountEdit[];
  producers: Producer[];
  /** The dense component of an element. */
  componentOf(element: number): number;
  componentCount: number;
  /** Element sets that must keep at least one channel (each output of a Split, each Slice), so no tensor goes empty. */
  ranges: Int32Array[];
}

/** How the channels of a value are known during the walk. */
type Flow =
  /** Channels on `axis` of a tensor of rank `rank`; index i holds element ids[i]. */
  | { kind: 'ch'; axis: number; rank: number; ids: Int32Array }
  /** Channels that do not come from a prunable layer (a graph input, an op with no rule): anything tied to them stays. */
  | { kind: 'fixed'; reason: string }
  /** An integer vector (shape arithmetic) some of whose entries are the channel count of a traced value. */
  | { kind: 'count'; reads: (Int32Array | undefined)[] };

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16]);

class UnionFind {
  parent: number[] = [];
  add(): number {
    this.parent.push(this.parent.length);
    return this.parent.length - 1;
  }
  find(x: number): number {
    let r = x;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[x] !== r) {
      const next = this.parent[x]!;
      this.parent[x] = r;
      x = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

const quote = (s: string) => `"${s}"`;

/** Builds the channel dependencies of the main graph. `shapes` are the model's static shapes (analysis/shapes.ts). */
export function analyzeChannels(model: ModelProto, catalog: TensorCatalog, shapes: ShapeInfo): ChannelAnalysis {
  const graph = model.graph!;
  const uf = new UnionFind();
  /** Producer index of each element (-1 for fixed elements). */
  const owner: number[] = [];
  const blocks: { element: number; reason: string }[] = [];
  const producers: Producer[] = [];
  const slices = new Map<string, TensorSlice>();
  const edits: CountEdit[] = [];
  const ranges: Int32Array[] = [];
  const flows = new Map<string, Flow>();
  const opset = (() => {
    const o = model.opsetImport.find((x) => !x.domain || x.domain === 'ai.onnx');
    return o ? Number(o.version) : 1;
  })();

  const newElements = (n: number, producer: number): Int32Array => {
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = uf.add();
      owner.push(producer);
    }
    return ids;
  };
  const fixedElements = (n: number, reason: string): Int32Array => {
    const ids = newElements(n, -1);
    for (const e of ids) blocks.push({ element: e, reason });
    return ids;
  };
  const blockIds = (ids: ArrayLike<number>, reason: string) => {
    for (let i = 0; i < ids.length; i++) blocks.push({ element: ids[i]!, reason });
  };
  const block = (flow: Flow | undefined, reason: string) => {
    if (!flow) return;
    if (flow.kind === 'ch') blockIds(flow.ids, reason);
    else if (flow.kind === 'count') for (const r of flow.reads) if (r) blockIds(r, reason);
  };
  const unite = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    for (let i = 0; i < a.length; i++) uf.union(a[i]!, b[i]!);
  };

  /** A stored float tensor of the main graph that can be cut (initializer or Constant node). */
  const stored = (name: string | undefined): CatalogEntry | undefined => {
    const e = constantNamed(catalog, name);
    return e && e.graphPath === 'main' && FLOAT_TYPES.has(e.dataType) && !e.sparse ? e : undefined;
  };
  const isConstant = (name: string) => constantNamed(catalog, name) !== undefined;
  const rankOf = (name: string): number | undefined => {
    const f = flows.get(name);
    if (f?.kind === 'ch') return f.rank;
    const c = constantNamed(catalog, name);
    if (c) return c.shape.length;
    return shapes.shapes.get(name)?.length;
  };
  const flowOf = (name: string): Flow | undefined => {
    if (!name) return undefined;
    const f = flows.get(name);
    if (f) return f;
    if (isConstant(name)) return undefined;
    return { kind: 'fixed', reason: graph.input.some((i) => i.name === name) ? `the graph input ${quote(name)}` : quote(name) };
  };

  const register = (entry: CatalogEntry, axis: number, ids: Int32Array, role: MemberRole, node: NodeProto, input: number, layer: string): void => {
    const key = `${entry.id}:${axis}`;
    const prior = slices.get(key);
    if (prior) {
      if (prior.ids.length !== ids.length) {
        blockIds(ids, `${quote(entry.name)} is read with two channel counts`);
        blockIds(prior.ids, `${quote(entry.name)} is read with two channel counts`);
      } else unite(prior.ids, ids);
      prior.readers.push({ node, input });
      return;
    }
    slices.set(key, { entry, axis, ids, role, layer, op: node.opType, readers: [{ node, input }] });
  };

  const newProducer = (node: NodeProto, layer: string, weight: CatalogEntry, axis: number): Int32Array => {
    const index = producers.length;
    const channels = weight.shape[axis]!;
    const ids = newElements(channels, index);
    producers.push({ index, node, layer, op: node.opType, weight, channels, first: ids[0] ?? owner.length });
    register(weight, axis, ids, 'produces', node, 1, layer);
    return ids;
  };

  /** A per-channel constant beside a channel axis: sliced along its axis aligned with the channel (right-aligned broadcast). */
  const sliceConstant = (
    name: string,
    entry: CatalogEntry,
    flow: Extract<Flow, { kind: 'ch' }>,
    outRank: number,
    node: NodeProto,
    input: number,
    layer: string,
  ): void => {
    const p = flow.axis - (outRank - entry.shape.length);
    if (p < 0 || entry.shape[p] === 1 || entry.elements === 1) return;
    if (entry.shape[p] !== flow.ids.length) {
      blockIds(flow.ids, `${node.opType} ${quote(layer)} broadcasts ${quote(name)} [${entry.shape.join(', ')}] against ${flow.ids.length} channels`);
      return;
    }
    if (!stored(name)) {
      blockIds(flow.ids, `${quote(name)} of ${node.opType} ${quote(layer)} is not a float tensor that can be cut`);
      return;
    }
    register(entry, p, flow.ids, 'scales', node, input, layer);
  };

  /** A consumer's weight reads the channels of `x` along `wAxis`. */
  const consume = (x: Flow | undefined, axis: number, weight: CatalogEntry | undefined, wAxis: number, node: NodeProto, layer: string): void => {
    if (!x || x.kind === 'fixed') return;
    if (x.kind === 'count') return block(x, `${node.opType} ${quote(layer)} computes with the channel count`);
    if (!weight) return block(x, `${node.opType} ${quote(layer)} reads them with a weight that is not a stored float tensor`);
    if (x.axis !== axis) return block(x, `${node.opType} ${quote(layer)} reads them along another axis`);
    if (weight.shape[wAxis] !== x.ids.length)
      return block(x, `${node.opType} ${quote(layer)} reads ${weight.shape[wAxis]} inputs, not ${x.ids.length} channels`);
    register(weight, wAxis, x.ids, 'reads', node, 1, layer);
  };

  /** Names read inside the subgraphs of a node (its bodies may read outer values implicitly). */
  const subgraphReads = (node: NodeProto): Set<string> => {
    const names = new Set<string>();
    const walk = (g: GraphProto) => {
      for (const n of g.node) {
        for (const i of n.input) if (i) names.add(i);
        for (const a of n.attribute) {
          if (a.g) walk(a.g);
          a.graphs.forEach(walk);
        }
      }
    };
    for (const a of node.attribute) {
      if (a.g) walk(a.g);
      a.graphs.forEach(walk);
    }
    return names;
  };

  graph.node.forEach((node, index) => {
    const layer = nodeLabel(node, index);
    const op = node.opType;
    const ins = node.input.map((n) => flowOf(n));
    const setOut = (i: number, f: Flow | undefined) => {
      const name = node.output[i];
      if (name && f) flows.set(name, f);
    };
    const fixedOut = (reason: string) => node.output.forEach((_, i) => setOut(i, { kind: 'fixed', reason }));
    const stop = (why: string) => {
      for (const f of ins) block(f, why);
      fixedOut(`the output of ${op} ${quote(layer)}`);
    };

    if (node.attribute.some((a) => a.g || a.graphs.length)) {
      for (const name of subgraphReads(node)) block(flows.get(name), `read inside a subgraph of ${op} ${quote(layer)}`);
    }
    if (op === 'Constant') return;
    const flow = isDefaultDomain(node) ? opTraits(node)?.channels : undefined;
    if (!flow) return stop(`${isDefaultDomain(node) ? '' : node.domain + '.'}${op} ${quote(layer)} reads them and has no channel rule`);
    const x = ins[0];
    const outName = node.output[0] ?? '';
    const inShape = shapes.shapes.get(node.input[0] ?? '');
    const outShape = shapes.shapes.get(outName);
    const outRank = outShape?.length;

    switch (flow.kind) {
      case 'compute': {
        const w = stored(node.input[1]);
        if (op === 'Conv') {
          const g = getInt(node, 'group', 1);
          if (!w || w.shape.length < 3) return stop(`Conv ${quote(layer)} has no stored weight`);
          const cout = w.shape[0]!;
          const cg = w.shape[1]!;
          const rank = w.shape.length;
          const bias = node.input[2] ? constantNamed(catalog, node.input[2]) : undefined;
          if (node.input[2] && !stored(node.input[2])) return stop(`Conv ${quote(layer)} has a bias that is not a stored float tensor`);
          if (g === 1) {
            consume(x, 1, w, 1, node, layer);
            const ids = newProducer(node, layer, w, 0);
            if (bias) register(bias, 0, ids, 'scales', node, 2, layer);
            return setOut(0, { kind: 'ch', axis: 1, rank, ids });
          }
          if (cg === 1 && cout % g === 0) {
            // Depthwise (channel multiplier m = Cout / group): output channel c·m + j follows input channel c.
            if (!x || x.kind !== 'ch') return setOut(0, x?.kind === 'fixed' ? x : { kind: 'fixed', reason: `the output of Conv ${quote(layer)}` });
            if (x.axis !== 1 || x.ids.length !== g) return stop(`depthwise Conv ${quote(layer)} reads ${g} channels on axis 1`);
            const m = cout / g;
            const ids = new Int32Array(cout);
            for (let c = 0; c < g; c++) for (let j = 0; j < m; j++) ids[c * m + j] = x.ids[c]!;
            register(w, 0, ids, 'follows', node, 1, layer);
            if (bias) register(bias, 0, ids, 'scales', node, 2, layer);
            const inIds = x.ids;
            edits.push({
              layer,
              what: 'group',
              apply: (kept) => {
                let n = 0;
                for (const e of inIds) if (kept(e)) n++;
                setAttr(node, attr.int('group', n));
              },
            });
            return setOut(0, { kind: 'ch', axis: 1, rank, ids });
          }
          // Grouped Conv: input channel r of every group shares weight column r, and output channel s of every group
          // is made the same way: both are coupled across groups, so every group keeps the same counts.
          if (cout % g !== 0) return stop(`grouped Conv ${quote(layer)} has ${cout} outputs for ${g} groups`);
          if (x?.kind === 'ch') {
            if (x.axis !== 1 || x.ids.length !== cg * g) block(x, `grouped Conv ${quote(layer)} reads ${cg * g} channels on axis 1`);
            else {
              for (let q = 1; q < g; q++) for (let r = 0; r < cg; r++) uf.union(x.ids[r]!, x.ids[q * cg + r]!);
              register(w, 1, x.ids.slice(0, cg), 'reads', node, 1, layer);
            }
          } else block(x, `grouped Conv ${quote(layer)} computes with the channel count`);
          const ids = newProducer(node, layer, w, 0);
          const og = cout / g;
          for (let q = 1; q < g; q++) for (let s = 0; s < og; s++) uf.union(ids[s]!, ids[q * og + s]!);
          if (bias) register(bias, 0, ids, 'scales', node, 2, layer);
          return setOut(0, { kind: 'ch', axis: 1, rank, ids });
        }
        if (op === 'ConvTranspose') {
          if (!w || w.shape.length < 3) return stop(`ConvTranspose ${quote(layer)} has no stored weight`);
          if (getInt(node, 'group', 1) !== 1) return stop(`grouped ConvTranspose ${quote(layer)} has no channel rule`);
          if (getInts(node, 'output_shape') && getInts(node, 'output_shape')!.length > w.shape.length - 2)
            return stop(`ConvTranspose ${quote(layer)} names its output channels`);
          const bias = node.input[2] ? stored(node.input[2]) : undefined;
          if (node.input[2] && !bias) return stop(`ConvTranspose ${quote(layer)} has a bias that is not a stored float tensor`);
          consume(x, 1, w, 0, node, layer);
          const ids = newProducer(node, layer, w, 1);
          if (bias) register(bias, 0, ids, 'scales', node, 2, layer);
          return setOut(0, { kind: 'ch', axis: 1, rank: w.shape.length, ids });
        }
        if (op === 'Gemm') {
          if (getInt(node, 'transA', 0)) return stop(`Gemm ${quote(layer)} transposes its input`);
          if (!w || w.shape.length !== 2) return stop(`Gemm ${quote(layer)} has no stored 2-D weight`);
          const transB = getInt(node, 'transB', 0) === 1;
          consume(x, 1, w, transB ? 1 : 0, node, layer);
          const ids = newProducer(node, layer, w, transB ? 0 : 1);
          const out: Flow = { kind: 'ch', axis: 1, rank: 2, ids };
          if (node.input[2]) {
            const c = constantNamed(catalog, node.input[2]);
            if (c) sliceConstant(node.input[2], c, out, 2, node, 2, layer);
            else {
              const f = ins[2];
              if (f?.kind === 'ch' && f.axis === 1 && f.ids.length === ids.length) unite(f.ids, ids);
              else if (f?.kind === 'ch' || (shapes.shapes.get(node.input[2])?.at(-1) ?? 2) !== 1) {
                block(f, `Gemm ${quote(layer)} adds them along another axis`);
                blockIds(ids, `Gemm ${quote(layer)} adds ${quote(node.input[2])} to its outputs`);
              }
            }
          }
          return setOut(0, out);
        }
        // MatMul: a stored right-hand weight [.., K, N]; the left input's channels must be its last axis.
        if (!w || w.shape.length < 2) {
          if (stored(node.input[0]) && ins[1]) return stop(`MatMul ${quote(layer)} multiplies them from the left`);
          return stop(`MatMul ${quote(layer)} multiplies two computed tensors`);
        }
        const xr = x?.kind === 'ch' ? x.rank : rankOf(node.input[0]!);
        if (xr === undefined || xr < 2) return stop(`MatMul ${quote(layer)} reads a tensor of unknown rank`);
        consume(x, xr - 1, w, w.shape.length - 2, node, layer);
        const ids = newProducer(node, layer, w, w.shape.length - 1);
        return setOut(0, { kind: 'ch', axis: Math.max(xr, w.shape.length) - 1, rank: Math.max(xr, w.shape.length), ids });
      }

      case 'unary':
      case 'along-axis': {
        if (!x) return fixedOut(`the output of ${op} ${quote(layer)}`);
        if (x.kind === 'count') {
          if (op === 'Cast' || op === 'Identity') return setOut(0, x);
          return stop(`${op} ${quote(layer)} computes with the channel count`);
        }
        for (let i = 1; i < ins.length; i++)
          if (!flow.params?.includes(i) && !flow.ignore?.includes(i)) block(ins[i], `${op} ${quote(layer)} reads them as a parameter`);
        if (x.kind === 'fixed') return setOut(0, x);
        if (op === 'Dropout' && node.output[1] && (catalog.valueConsumers.get(node.output[1])?.length ?? 0) > 0)
          return stop(`the mask of Dropout ${quote(layer)} is used`);
        if (op === 'BatchNormalization' && node.output.slice(1).some((o) => o && (catalog.valueConsumers.get(o)?.length ?? 0) > 0))
          return stop(`BatchNormalization ${quote(layer)} returns its running statistics`);
        let paramsAlong = flow.kind === 'unary';
        if (flow.kind === 'along-axis') {
          const legacy = (op === 'Softmax' || op === 'LogSoftmax' || op === 'Hardmax') && opset < 13;
          const axis = normalizeAxis(getInt(node, 'axis', legacy ? 1 : -1), x.rank);
          const touched = op === 'LayerNormalization' || legacy ? x.axis >= axis : x.axis === axis;
          if (touched) {
            if (op !== 'LayerNormalization' || axis !== x.rank - 1) return stop(`${op} ${quote(layer)} works along the channel axis`);
            paramsAlong = true;
          } else paramsAlong = false;
        }
        if (flow.params?.length) {
          if ((op === 'BatchNormalization' || op === 'InstanceNormalization') && x.axis !== 1)
            return stop(`${op} ${quote(layer)} normalizes axis 1, not the channels`);
          for (const p of flow.params) {
            const name = node.input[p];
            if (!name) continue;
            const e = constantNamed(catalog, name);
            if (!e) return stop(`${op} ${quote(layer)} has a computed parameter ${quote(name)}`);
            if (!paramsAlong) continue;
            if (e.elements === 1) continue;
            if (e.shape.length !== 1 || e.shape[0] !== x.ids.length || !stored(name))
              return stop(`${op} ${quote(layer)} parameter ${quote(name)} is not one float per channel`);
            register(e, 0, x.ids, 'scales', node, p, layer);
          }
        }
        setOut(0, x);
        if (op === 'Dropout') setOut(1, { kind: 'fixed', reason: `the mask of Dropout ${quote(layer)}` });
        return;
      }

      case 'broadcast': {
        const names = node.input;
        const rank = outRank ?? Math.max(...names.map((n) => (n ? (rankOf(n) ?? 0) : 0)));
        const traced: { f: Extract<Flow, { kind: 'ch' }>; axis: number }[] = [];
        for (const f of ins) if (f?.kind === 'ch') traced.push({ f, axis: f.axis + rank - f.rank });
        for (const f of ins) if (f?.kind === 'count') block(f, `${op} ${quote(layer)} computes with the channel count`);
        const wide = traced.filter((t) => t.f.ids.length > 1);
        if (wide.length === 0) {
          if (traced.length) return setOut(0, traced[0]!.f.rank === rank ? traced[0]!.f : { ...traced[0]!.f, axis: traced[0]!.axis, rank });
          return fixedOut(`the output of ${op} ${quote(layer)}`);
        }
        const lead = wide[0]!;
        if (wide.some((t) => t.axis !== lead.axis || t.f.ids.length !== lead.f.ids.length))
          return stop(`${op} ${quote(layer)} joins channels on different axes`);
        for (const t of wide.slice(1)) unite(lead.f.ids, t.f.ids);
        for (const t of traced)
          if (t.f.ids.length === 1 && lead.f.ids.length > 1) block(t.f, `${op} ${quote(layer)} broadcasts a single channel over ${lead.f.ids.length}`);
        const out: Extract<Flow, { kind: 'ch' }> = { kind: 'ch', axis: lead.axis, rank, ids: lead.f.ids };
        names.forEach((name, i) => {
          if (!name || ins[i]?.kind === 'ch') return;
          const c = constantNamed(catalog, name);
          if (c) return sliceConstant(name, c, out, rank, node, i, layer);
          const s = shapes.shapes.get(name);
          const p = s ? lead.axis - (rank - s.length) : -1;
          if (s && (p < 0 || s[p] === 1)) return;
          const f = ins[i];
          blockIds(lead.f.ids, `${op} ${quote(layer)} joins them with ${f?.kind === 'fixed' ? f.reason : quote(name)}${s ? '' : ' (shape unknown)'}`);
        });
        return setOut(0, out);
      }

      case 'pool': {
        if (!x || x.kind === 'fixed') return setOut(0, x ?? { kind: 'fixed', reason: `the output of ${op} ${quote(layer)}` });
        if (x.kind === 'count' || x.axis !== 1 || x.rank < 3) return stop(`${op} ${quote(layer)} pools a tensor whose channels are not on axis 1`);
        if (op === 'MaxPool' && node.output[1] && (catalog.valueConsumers.get(node.output[1])?.length ?? 0) > 0)
          return stop(`MaxPool ${quote(layer)} returns indices`);
        return setOut(0, x);
      }

      case 'reduce': {
        if (!x || x.kind === 'fixed') return setOut(0, x ?? { kind: 'fixed', reason: `the output of ${op} ${quote(layer)}` });
        if (x.kind === 'count') return stop(`${op} ${quote(layer)} computes with the channel count`);
        const raw = getInts(node, 'axes') ?? (node.input[1] ? shapes.ints.get(node.input[1]) : undefined);
        if (node.input[1] && !raw) return stop(`${op} ${quote(layer)} reduces over computed axes`);
        const noop = getInt(node, 'noop_with_empty_axes', 0) === 1;
        const axes = raw?.map((a) => normalizeAxis(a, x.rank)) ?? (noop ? [] : Array.from({ length: x.rank }, (_, i) => i));
        if (axes.includes(x.axis)) return stop(`${op} ${quote(layer)} reduces over the channels`);
        const keep = getInt(node, 'keepdims', 1) === 1;
        return setOut(0, keep ? x : { ...x, axis: x.axis - axes.filter((a) => a < x.axis).length, rank: x.rank - axes.length });
      }

      case 'shape': {
        if (!x || x.kind !== 'ch') return;
        if (op === 'Size') return stop(`Size ${quote(layer)} reads the channel count`);
        const start = normalizeAxis(getInt(node, 'start', 0), x.rank);
        const endAttr = node.attribute.find((a) => a.name === 'end');
        const end = endAttr ? Math.min(x.rank, normalizeAxis(Number(endAttr.i), x.rank)) : x.rank;
        if (x.axis < start || x.axis >= end) return;
        const reads: (Int32Array | undefined)[] = new Array(end - start).fill(undefined);
        reads[x.axis - start] = x.ids;
        return setOut(0, { kind: 'count', reads });
      }

      case 'layout':
        return layout();
    }

    function layout(): void {
      if (op === 'Concat') return concat();
      if (!x || x.kind === 'fixed') {
        for (const f of ins.slice(1)) block(f, `${op} ${quote(layer)} takes it as a parameter`);
        return node.output.forEach((_, i) => setOut(i, x ?? { kind: 'fixed', reason: `the output of ${op} ${quote(layer)}` }));
      }
      if (x.kind === 'count') return countLayout();
      for (let i = 1; i < ins.length; i++)
        if (!(op === 'Reshape' && i === 1) && !((op === 'Resize' || op === 'Upsample') && i > 0)) block(ins[i], `${op} ${quote(layer)} uses the channel count`);
      switch (op) {
        case 'Transpose': {
          const perm = getInts(node, 'perm') ?? Array.from({ length: x.rank }, (_, i) => x.rank - 1 - i);
          return setOut(0, { ...x, axis: perm.indexOf(x.axis) });
        }
        case 'Squeeze':
        case 'Unsqueeze': {
          const raw = getInts(node, 'axes') ?? (node.input[1] ? shapes.ints.get(node.input[1]) : undefined);
          if (op === 'Squeeze') {
            const axes = raw?.map((a) => normalizeAxis(a, x.rank)) ?? inShape?.flatMap((d, i) => (d === 1 ? [i] : []));
            if (!axes) return stop(`Squeeze ${quote(layer)} has unknown axes`);
            if (axes.includes(x.axis)) return stop(`Squeeze ${quote(layer)} removes the channel axis`);
            return setOut(0, { ...x, axis: x.axis - axes.filter((a) => a < x.axis).length, rank: x.rank - axes.length });
          }
          if (!raw) return stop(`Unsqueeze ${quote(layer)} has unknown axes`);
          const rank = x.rank + raw.length;
          const axes = raw.map((a) => normalizeAxis(a, rank));
          let axis = x.axis;
          for (let i = 0; i < rank; i++) if (axes.includes(i) && i <= axis) axis++;
          return setOut(0, { ...x, axis, rank });
        }
        case 'Flatten': {
          const axis = normalizeAxis(getInt(node, 'axis', 1), x.rank);
          if (!inShape) return stop(`Flatten ${quote(layer)}: the input's shape is unknown`);
          if (x.axis < axis) return stop(`Flatten ${quote(layer)} merges the channels into the outer axis`);
          const outer = inShape.slice(axis, x.axis).reduce((a, b) => a * b, 1);
          const inner = inShape.slice(x.axis + 1).reduce((a, b) => a * b, 1);
          return setOut(0, { kind: 'ch', axis: 1, rank: 2, ids: tile(x.ids, outer, inner) });
        }
        case 'Reshape':
          return reshape();
        case 'Split':
          return split();
        case 'Slice':
          return slice();
        case 'Pad': {
          const pads = getInts(node, 'pads') ?? (node.input[1] ? shapes.ints.get(node.input[1]) : undefined);
          const axesIn = node.input[3] ? shapes.ints.get(node.input[3]) : undefined;
          if (!pads || (node.input[3] && !axesIn)) return stop(`Pad ${quote(layer)} has computed pads`);
          const axes = axesIn?.map((a) => normalizeAxis(a, x.rank)) ?? Array.from({ length: x.rank }, (_, i) => i);
          const k = axes.indexOf(x.axis);
          if (k >= 0 && (pads[k] !== 0 || pads[k + axes.length] !== 0)) return stop(`Pad ${quote(layer)} pads the channels`);
          return setOut(0, x);
        }
        case 'Resize':
        case 'Upsample':
          return resize();
        case 'Gather': {
          const axis = normalizeAxis(getInt(node, 'axis', 0), x.rank);
          const idx = shapes.shapes.get(node.input[1] ?? '');
          if (axis === x.axis || !idx) return stop(`Gather ${quote(layer)} picks channels`);
          return setOut(0, { ...x, axis: x.axis > axis ? x.axis - 1 + idx.length : x.axis, rank: x.rank - 1 + idx.length });
        }
        default:
          return stop(`${op} ${quote(layer)} has no channel rule`);
      }
    }

    function countLayout(): void {
      const f = x as Extract<Flow, { kind: 'count' }>;
      if (op === 'Gather' && getInt(node, 'axis', 0) === 0) {
        const idx = shapes.ints.get(node.input[1] ?? '');
        if (!idx) return stop(`Gather ${quote(layer)} picks computed entries of a shape`);
        const reads = idx.map((i) => f.reads[i < 0 ? i + f.reads.length : i]);
        return setOut(0, reads.some(Boolean) ? { kind: 'count', reads } : undefined);
      }
      if (op === 'Slice') {
        const p = sliceParams(node, shapes.ints, [f.reads.length]);
        if (!p || p.length !== 1) return stop(`Slice ${quote(layer)} cuts a shape with computed bounds`);
        const reads: (Int32Array | undefined)[] = [];
        for (let i = p[0]!.start; p[0]!.step > 0 ? i < p[0]!.end : i > p[0]!.end; i += p[0]!.step) reads.push(f.reads[i]);
        return setOut(0, reads.some(Boolean) ? { kind: 'count', reads } : undefined);
      }
      if (op === 'Squeeze' || op === 'Unsqueeze' || op === 'Reshape') return setOut(0, f);
      return stop(`${op} ${quote(layer)} uses the channel count`);
    }

    function concat(): void {
      const axisAttr = getInt(node, 'axis', 0);
      if (ins.some((f) => f?.kind === 'count')) {
        const reads: (Int32Array | undefined)[] = [];
        for (let i = 0; i < node.input.length; i++) {
          const f = ins[i];
          if (f?.kind === 'count') reads.push(...f.reads);
          else {
            const n = shapes.shapes.get(node.input[i]!)?.[0];
            if (n === undefined) return stop(`Concat ${quote(layer)} joins a shape of unknown length`);
            for (let k = 0; k < n; k++) reads.push(undefined);
          }
        }
        return setOut(0, { kind: 'count', reads });
      }
      const traced = ins.filter((f): f is Extract<Flow, { kind: 'ch' }> => f?.kind === 'ch');
      if (traced.length === 0) return fixedOut(`the output of Concat ${quote(layer)}`);
      const rank = traced[0]!.rank;
      const axis = normalizeAxis(axisAttr, rank);
      if (traced.some((t) => t.rank !== rank)) return stop(`Concat ${quote(layer)} joins tensors of different ranks`);
      if (traced.every((t) => t.axis === axis)) {
        // Along the channels: the output's channels are the inputs' channels one after another.
        const parts: Int32Array[] = [];
        for (let i = 0; i < node.input.length; i++) {
          const f = ins[i];
          if (f?.kind === 'ch') parts.push(f.ids);
          else {
            const n = shapes.shapes.get(node.input[i]!)?.[axis];
            if (n === undefined) return stop(`Concat ${quote(layer)} joins ${quote(node.input[i]!)} of unknown shape`);
            parts.push(fixedElements(n, `Concat ${quote(layer)} joins them with ${f?.kind === 'fixed' ? f.reason : `the constant ${quote(node.input[i]!)}`}`));
          }
        }
        const ids = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of parts) {
          ids.set(p, at);
          at += p.length;
        }
        return setOut(0, { kind: 'ch', axis, rank, ids });
      }
      // Along another axis: every input carries the same channels.
      const lead = traced[0]!;
      if (traced.some((t) => t.axis !== lead.axis || t.ids.length !== lead.ids.length) || lead.axis === axis)
        return stop(`Concat ${quote(layer)} joins channels on different axes`);
      for (const t of traced.slice(1)) unite(lead.ids, t.ids);
      node.input.forEach((name, i) => {
        if (ins[i]?.kind === 'ch') return;
        const c = constantNamed(catalog, name);
        if (c) return sliceConstant(name, c, lead, rank, node, i, layer);
        const s = shapes.shapes.get(name);
        if (s && s[lead.axis] === 1 && lead.ids.length === 1) return;
        blockIds(lead.ids, `Concat ${quote(layer)} joins them with ${ins[i]?.kind === 'fixed' ? (ins[i] as { reason: string }).reason : quote(name)}`);
      });
      return setOut(0, lead);
    }

    function reshape(): void {
      const xf = x as Extract<Flow, { kind: 'ch' }>;
      const target = shapes.ints.get(node.input[1] ?? '');
      if (!inShape || !outShape || !target) return stop(`Reshape ${quote(layer)} reshapes to a shape that is not known`);
      const C = xf.ids.length;
      const before = inShape.slice(0, xf.axis).reduce((a, b) => a * b, 1);
      let j = 0;
      let p = 1;
      while (j < outShape.length && p < before) p *= outShape[j++]!;
      // Skip unit axes that Reshape may insert before the channels.
      while (j < outShape.length && outShape[j] === 1 && C !== 1) j++;
      if (p !== before || j >= outShape.length) return stop(`Reshape ${quote(layer)} moves the channels into another axis`);
      const d = outShape[j]!;
      let repeat = 1;
      if (d !== C) {
        let inner = 1;
        let k = xf.axis + 1;
        while (k < inShape.length && C * inner < d) inner *= inShape[k++]!;
        if (C * inner !== d) return stop(`Reshape ${quote(layer)} splits the channels`);
        repeat = inner;
      }
      const shapeFlow = ins[1];
      const entry = constantNamed(catalog, node.input[1]!);
      const t = target[j]!;
      const allowZero = getInt(node, 'allowzero', 0) === 1;
      const copies = t === 0 && !allowZero && j === xf.axis && repeat === 1;
      if (t === -1 || copies) {
        // The new count follows by itself.
      } else if (shapeFlow?.kind === 'count' && shapeFlow.reads[j] && repeat === 1 && shapeFlow.reads[j]!.length === C) {
        // The count read by a Shape of channels coupled to these: unite them, the runtime computes the new count.
        unite(shapeFlow.reads[j]!, xf.ids);
      } else if (entry && t === d) {
        const ids = xf.ids;
        const input = node.input[1]!;
        edits.push({
          layer,
          what: 'shape',
          apply: (kept, ctx) => {
            let n = 0;
            for (const e of ids) if (kept(e)) n++;
            const next = [...target];
            next[j] = n * repeat;
            ctx.retired.add(input);
            node.input[1] = addConstant(ctx, `${input}_pruned`, next);
          },
        });
      } else return stop(`Reshape ${quote(layer)} reshapes to a computed shape that names the channel count`);
      if (shapeFlow?.kind === 'count')
        block(
          { kind: 'count', reads: shapeFlow.reads.map((r, i) => (i === j && r?.length === C ? undefined : r)) },
          `Reshape ${quote(layer)} uses the channel count in its shape`,
        );
      setOut(0, { kind: 'ch', axis: j, rank: outShape.length, ids: repeat === 1 ? xf.ids : tile(xf.ids, 1, repeat) });
    }

    function split(): void {
      const xf = x as Extract<Flow, { kind: 'ch' }>;
      const axis = normalizeAxis(getInt(node, 'axis', 0), xf.rank);
      if (axis !== xf.axis) return node.output.forEach((_, i) => setOut(i, xf));
      const sizes = splitSizes(node, shapes.ints, xf.ids.length);
      if (!sizes || sizes.reduce((a, b) => a + b, 0) !== xf.ids.length) return stop(`Split ${quote(layer)} cuts the channels at computed places`);
      const parts: Int32Array[] = [];
      let at = 0;
      for (const s of sizes) parts.push(xf.ids.slice(at, (at += s)));
      parts.forEach((ids, i) => {
        ranges.push(ids);
        setOut(i, { ...xf, ids });
      });
      edits.push({
        layer,
        what: 'split',
        apply: (kept, ctx) => {
          const counts = parts.map((ids) => ids.reduce((n, e) => n + (kept(e) ? 1 : 0), 0));
          node.attribute = node.attribute.filter((a) => a.name !== 'num_outputs' && a.name !== 'split');
          if (opset >= 13) {
            if (node.input[1]) ctx.retired.add(node.input[1]);
            node.input[1] = addConstant(ctx, `${layer}_split_pruned`, counts);
          } else setAttr(node, attr.ints('split', counts));
        },
      });
    }

    function slice(): void {
      const xf = x as Extract<Flow, { kind: 'ch' }>;
      const inputs = node.input.length > 1;
      const dims = inShape ?? Array.from({ length: xf.rank }, (_, i) => (i === xf.axis ? xf.ids.length : 1));
      const params = sliceParams(
        node,
        shapes.ints,
        dims.map((d, i) => (i === xf.axis ? xf.ids.length : d)),
      );
      if (!params) {
        const axesKnown = inputs ? (node.input[3] ? shapes.ints.get(node.input[3]) : undefined) : getInts(node, 'axes');
        if (axesKnown && !axesKnown.map((a) => normalizeAxis(a, xf.rank)).includes(xf.axis)) return setOut(0, xf);
        return stop(`Slice ${quote(layer)} has computed bounds`);
      }
      const k = params.findIndex((q) => q.axis === xf.axis);
      if (k < 0) return setOut(0, xf);
      const q = params[k]!;
      if (q.step !== 1) return stop(`Slice ${quote(layer)} takes every ${q.step}th channel`);
      const ids = xf.ids.slice(q.start, Math.max(q.start, q.end));
      if (ids.length === xf.ids.length) return setOut(0, xf);
      if (inputs && (!constantNamed(catalog, node.input[1]) || !constantNamed(catalog, node.input[2])))
        return stop(`Slice ${quote(layer)} cuts the channels at computed bounds`);
      ranges.push(ids);
      const all = xf.ids;
      const starts = inputs ? shapes.ints.get(node.input[1]!)! : getInts(node, 'starts')!;
      const ends = inputs ? shapes.ints.get(node.input[2]!)! : getInts(node, 'ends')!;
      edits.push({
        layer,
        what: 'slice',
        apply: (kept, ctx) => {
          let s = 0;
          for (let i = 0; i < q.start; i++) if (kept(all[i]!)) s++;
          let e = s;
          for (let i = q.start; i < q.end; i++) if (kept(all[i]!)) e++;
          const ns = [...starts];
          const ne = [...ends];
          ns[k] = s;
          ne[k] = e;
          if (inputs) {
            ctx.retired.add(node.input[1]!).add(node.input[2]!);
            node.input[1] = addConstant(ctx, `${layer}_starts_pruned`, ns);
            node.input[2] = addConstant(ctx, `${layer}_ends_pruned`, ne);
          } else {
            setAttr(node, attr.ints('starts', ns));
            setAttr(node, attr.ints('ends', ne));
          }
        },
      });
      setOut(0, { ...xf, ids });
    }

    function resize(): void {
      const xf = x as Extract<Flow, { kind: 'ch' }>;
      if (!outShape || !inShape) return stop(`${op} ${quote(layer)} resizes to a shape that is not known`);
      if (outShape[xf.axis] !== inShape[xf.axis]) return stop(`${op} ${quote(layer)} resizes along the channels`);
      const sizesName = op === 'Resize' ? node.input[3] : undefined;
      if (sizesName) {
        const f = ins[3];
        const sizes = shapes.ints.get(sizesName);
        const axes = getInts(node, 'axes')?.map((a) => normalizeAxis(a, xf.rank)) ?? Array.from({ length: xf.rank }, (_, i) => i);
        const k = axes.indexOf(xf.axis);
        if (k >= 0) {
          if (f?.kind === 'count' && f.reads[k]?.length === xf.ids.length) {
            unite(f.reads[k]!, xf.ids);
          } else if (constantNamed(catalog, sizesName) && sizes) {
            const ids = xf.ids;
            edits.push({
              layer,
              what: 'sizes',
              apply: (kept, ctx) => {
                const next = [...sizes];
                next[k] = ids.reduce((n, e) => n + (kept(e) ? 1 : 0), 0);
                ctx.retired.add(sizesName);
                node.input[3] = addConstant(ctx, `${sizesName}_pruned`, next);
              },
            });
          } else return stop(`${op} ${quote(layer)} resizes to computed sizes that name the channel count`);
        }
        if (f?.kind === 'count')
          block(
            { kind: 'count', reads: f.reads.map((r, i) => (i === k && r?.length === xf.ids.length ? undefined : r)) },
            `${op} ${quote(layer)} uses the channel count in its sizes`,
          );
      }
      for (let i = 1; i < ins.length; i++) if (ins[i]?.kind === 'ch') block(ins[i], `${op} ${quote(layer)} reads them as a parameter`);
      return setOut(0, xf);
    }
  });

  for (const o of graph.output) block(flows.get(o.name), `they reach the graph output ${quote(o.name)}`);

  // A cut tensor must be read only the ways registered: any other reader would see the wrong shape.
  const byEntry = new Map<CatalogEntry, TensorSlice[]>();
  for (const s of slices.values()) byEntry.set(s.entry, [...(byEntry.get(s.entry) ?? []), s]);
  const outputs = new Set(graph.output.map((o) => o.name));
  for (const [entry, list] of byEntry) {
    const known = list.flatMap((s) => s.readers);
    const other = entry.consumers.find((c) => !known.some((k) => k.node === c.node && k.input === c.inputIndex));
    const why = other
      ? `${quote(entry.name)} is also read by ${other.node.opType} ${quote(other.nodeLabel)}`
      : outputs.has(entry.name)
        ? `${quote(entry.name)} is a graph output`
        : undefined;
    if (why) for (const s of list) blockIds(s.ids, why);
  }

  // Components: dense ids over union-find roots.
  const dense = new Map<number, number>();
  const componentOf = (element: number) => dense.get(uf.find(element))!;
  for (let e = 0; e < uf.parent.length; e++) {
    const r = uf.find(e);
    if (!dense.has(r)) dense.set(r, dense.size);
  }
  const componentCount = dense.size;
  const reason: (string | undefined)[] = new Array(componentCount).fill(undefined);
  for (const b of blocks) {
    const c = componentOf(b.element);
    reason[c] ??= b.reason;
  }
  const producersOf: Set<number>[] = Array.from({ length: componentCount }, () => new Set());
  for (let e = 0; e < owner.length; e++) {
    const p = owner[e]!;
    const c = componentOf(e);
    if (p < 0) reason[c] ??= 'they are not made by a prunable layer';
    else producersOf[c]!.add(p);
  }

  // Groups: components with the same producing layers (and the same kept/prunable state).
  const groupByKey = new Map<string, ChannelGroup>();
  const groupOf: (ChannelGroup | undefined)[] = new Array(componentCount).fill(undefined);
  for (let c = 0; c < componentCount; c++) {
    const ps = [...producersOf[c]!].sort((a, b) => a - b);
    if (ps.length === 0) continue;
    const key = `${ps.join(',')}|${reason[c] ?? ''}`;
    let g = groupByKey.get(key);
    if (!g) {
      const list = ps.map((p) => producers[p]!);
      g = {
        id: 0,
        components: [],
        members: [],
        producers: list,
        blocked: reason[c],
        label: list.length > 1 ? `${list[0]!.layer} + ${list.length - 1} more` : list[0]!.layer,
      };
      groupByKey.set(key, g);
    }
    g.components.push(c);
    groupOf[c] = g;
  }
  const groups = [...groupByKey.values()].sort((a, b) => a.producers[0]!.index - b.producers[0]!.index || Number(!!a.blocked) - Number(!!b.blocked));
  groups.forEach((g, i) => (g.id = i + 1));
  for (const s of slices.values()) {
    const counts = new Map<ChannelGroup, number>();
    for (const e of s.ids) {
      const g = groupOf[componentOf(e)];
      if (g) counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    for (const [g, n] of counts) g.members.push({ slice: s, channels: n });
  }
  const roleOrder: Record<MemberRole, number> = { produces: 0, follows: 1, scales: 2, reads: 3 };
  for (const g of groups) g.members.sort((a, b) => roleOrder[a.slice.role] - roleOrder[b.slice.role]);

  return { groups, slices: [...slices.values()], edits, producers, componentOf, componentCount, ranges };
}

/** ids tiled `outer` times, each id repeated `inner` times (a Flatten of [outer, C, inner]). */
function tile(ids: Int32Array, outer: number, inner: number): Int32Array {
  const out = new Int32Array(outer * ids.length * inner);
  let at = 0;
  for (let o = 0; o < outer; o++) for (const e of ids) for (let i = 0; i < inner; i++) out[at++] = e;
  return out;
}

/** A new int64 initializer (a fresh name: the old constant may be shared by other nodes). */
function addConstant(ctx: EditContext, base: string, values: number[]): string {
  const name = ctx.names.fresh(base);
  ctx.graph.initializer.push(int64Vector(name, values));
  return name;
}
