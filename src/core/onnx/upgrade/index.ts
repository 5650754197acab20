/**
 * Opset upgrade: raises a model's default-domain (ai.onnx) opset one version at a time, rewriting every node whose
 * op changed inputs, attributes or meaning on the way so that the upgraded model computes the same outputs.
 */
import type { ModelProto, NodeProto } from 'onnx-buf';
import { allGraphs, isDefaultDomain, NameScope, type GraphRef } from '../graph-edit';
import { AdapterContext, OpsetUpgradeError, StepState, type UpgradeSession } from './context';
import { changesAt, isDefinedAt, OP_VERSIONS } from './op-versions';
import { COMPATIBLE, UPGRADE_RULES } from './registry';
import { ValueTypes } from './value-types';
import { defaultOpset, irVersionFor } from '../opset';

export { OpsetUpgradeError } from './context';
export { defaultOpset, irVersionFor } from '../opset';

/** The newest opset the studio upgrades to. */
export const MAX_UPGRADE_OPSET = 21;
/** The oldest opset the studio upgrades from. */
export const MIN_UPGRADE_OPSET = 7;

export interface UpgradeReport {
  from: number;
  to: number;
  irVersion: { from: number; to: number };
  /** Op type (as it was in the input) → nodes rewritten. */
  rewritten: Record<string, number>;
  notes: string[];
}

const isDefaultDomainImport = (domain: string) => domain === '' || domain === 'ai.onnx';

function nodeLabel(node: NodeProto, index: number, where: GraphRef): string {
  const name = node.name ? `"${node.name}"` : `${node.opType}#${index}`;
  return where.depth > 0 ? `${name} in ${where.path}` : name;
}

/** Every default-domain node must be an op defined at the model's opset, before anything is changed. */
function checkDefined(model: ModelProto, opset: number): void {
  for (const where of allGraphs(model)) {
    where.graph.node.forEach((node, index) => {
      if (!isDefaultDomain(node) || isDefinedAt(node.opType, opset)) return;
      const versions = OP_VERSIONS[node.opType];
      const why = versions
        ? `it is defined from opset ${versions[0]} on, and the model imports opset ${opset}`
        : 'it is not an operator of the ONNX default domain (ai.onnx) up to opset 21';
      throw new OpsetUpgradeError(`${node.opType} node ${nodeLabel(node, index, where)} cannot be upgraded: ${why}.`);
    });
  }
}

function checkTarget(from: number, target: number): void {
  if (!Number.isInteger(target)) throw new OpsetUpgradeError(`the target opset must be an integer (got ${target})`);
  if (from === 0) throw new OpsetUpgradeError('the model imports no default-domain (ai.onnx) opset');
  if (from < MIN_UPGRADE_OPSET) throw new OpsetUpgradeError(`opset ${from} is older than the studio upgrades (${MIN_UPGRADE_OPSET}+)`);
  if (target > MAX_UPGRADE_OPSET) throw new OpsetUpgradeError(`opset ${target} is newer than the studio upgrades to (${MAX_UPGRADE_OPSET} at most)`);
  if (target < from) throw new OpsetUpgradeError(`the model is at opset ${from}; it cannot be downgraded to ${target}`);
}

/** One step: every default-domain node of every graph, as it was when the step began, goes through its rule. */
function upgradeStep(session: UpgradeSession, version: number, rewritten: Map<NodeProto, string>): void {
  const { model } = session;
  const rules = UPGRADE_RULES[version] ?? {};
  const step = new StepState(session, version, new ValueTypes(model));
  for (const where of allGraphs(model)) {
    for (const node of [...where.graph.node]) {
      if (!isDefaultDomain(node)) continue;
      const rule = rules[node.opType];
      const ctx = new AdapterContext(node, where, step);
      if (rule === undefined) {
        if (changesAt(node.opType, version)) throw ctx.error('the studio has no rule for this op at this opset');
        continue;
      }
      if (rule === COMPATIBLE) continue;
      const opType = node.opType;
      if (rule(ctx) && !rewritten.has(node)) rewritten.set(node, opType);
    }
  }
  const entry = model.opsetImport.find((o) => isDefaultDomainImport(o.domain))!;
  entry.version = BigInt(version);
}

/**
 * Raises the default-domain opset of `model` to `target` in place, one version step at a time, and the IR version
 * as far as the target needs (never lowering it). Throws OpsetUpgradeError (naming the op, the node and why) for a
 * model it cannot convert; the model may then be partly converted, so upgrade a copy you can drop.
 */
export function upgradeOpset(model: ModelProto, target: number): UpgradeReport {
  const from = defaultOpset(model);
  checkTarget(from, target);
  if (target > from) checkDefined(model, from);
  const notes = new Set<string>();
  const session: UpgradeSession = { model, scope: new NameScope(model), notes, constants: new WeakMap() };
  const rewritten = new Map<NodeProto, string>();
  for (let version = from + 1; version <= target; version++) upgradeStep(session, version, rewritten);
  const irFrom = Number(model.irVersion);
  const irTo = Math.max(irFrom, irVersionFor(target));
  model.irVersion = BigInt(irTo);
  if (model.functions.some((f) => f.opsetImport.some((o) => isDefaultDomainImport(o.domain)))) {
    notes.add('model-local functions keep the opset they import; their bodies are not upgraded');
  }
  const counts: Record<string, number> = {};
  for (const op of rewritten.values()) counts[op] = (counts[op] ?? 0) + 1;
  const sorted = Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return { from, to: target, irVersion: { from: irFrom, to: irTo }, rewritten: sorted, notes: [...notes] };
}

/** One line: "opset 9 → 13: Clip ×28, Slice ×10" ("opset 13: no change" when nothing was asked). */
export function describeUpgrade(r: UpgradeReport): string {
  if (r.from === r.to) return `opset ${r.to}: no change`;
  const ops = Object.entries(r.rewritten).map(([op, n]) => `${op} ×${n}`);
  return `opset ${r.from} → ${r.to}: ${ops.length ? ops.join(', ') : 'no node rewritten'}`;
}
