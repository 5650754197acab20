/** A synthetic model-shaped graph of any size, for benchmarks: residual blocks of Conv → Relu → Add, weights on the Convs. */
import type { GraphEdge, GraphNode, ModelGraph } from './model';

export function syntheticGraph(opCount: number): ModelGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const add = (kind: GraphNode['kind'], op: string, name: string, weights: number[] = []): number => {
    const id = nodes.length;
    nodes.push({
      id,
      kind,
      name,
      op,
      graph: 'main',
      parent: -1,
      isGroup: false,
      inputs: [],
      outputs: [`${name}_out`],
      weights,
      weightBytes: weights.length * 4608,
    });
    return id;
  };
  const link = (from: number, to: number) => edges.push({ from, to, value: `${nodes[from]!.name}_out` });
  let prev = add('input', 'Input', 'x');
  let blockIn = prev;
  let weight = 0;
  for (let i = 0; i < opCount; i++) {
    const kind = i % 3;
    const id = add(
      'op',
      kind === 0 ? 'Conv' : kind === 1 ? 'Relu' : 'Add',
      `block${Math.floor(i / 3)}.${['conv', 'relu', 'add'][kind]}`,
      kind === 0 ? [weight++] : [],
    );
    link(prev, id);
    if (kind === 2) {
      link(blockIn, id);
      blockIn = id;
    }
    prev = id;
  }
  link(prev, add('output', 'Output', 'y'));
  return { name: 'synthetic', nodes, edges, opCount, groupCount: 0 };
}
