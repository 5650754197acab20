import { describe, expect, it } from 'vitest';
import { cpuNodesFromLog, logMessage, ORT_LINE } from './ort-log';

const at = (message: string, severity = 'V') =>
  `2026-11-28 20:28:18.444169 [${severity}:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp] ${message}`;

describe("reading onnxruntime's node placement log", () => {
  it('lists the nodes placed on the CPU, not those on the GPU', () => {
    const lines = [
      at('Node placements'),
      at(' Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 2'),
      at('  Conv (conv1)'),
      at('  Relu (relu1)'),
      at(' Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2'),
      at('  DynamicQuantizeLinear (input_DynamicQuantizeLinear)'),
      at('  MatMulInteger (fc1_MatMulInteger)'),
      at('Something else', 'I'),
      at('  Gather (not a placement)'),
    ];
    expect(cpuNodesFromLog(lines)).toEqual(['input_DynamicQuantizeLinear (DynamicQuantizeLinear)', 'fc1_MatMulInteger (MatMulInteger)']);
  });

  it('nothing when every node ran on the asked-for backend', () => {
    expect(cpuNodesFromLog([at('Node placements'), at(' All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 18')])).toEqual([]);
  });

  it('recognises ORT lines with and without colour codes', () => {
    const yellow = `\x1b[0;93m${at('Removing initializer', 'W')}\x1b[m`;
    expect(ORT_LINE.exec(yellow)?.[1]).toBe('W');
    expect(ORT_LINE.exec(at('x', 'I'))?.[1]).toBe('I');
    expect(ORT_LINE.test('plain console text')).toBe(false);
    expect(logMessage(yellow).trim()).toBe('Removing initializer');
  });
});
