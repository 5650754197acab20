/** Reading onnxruntime's C++ log (as onnxruntime-web prints it to the console). */

// Lines may start with an ANSI colour code (warnings are yellow).

export const ORT_LINE = /^(?:\x1b\[[\d;]*m)?\d{4}-\d\d-\d\d [\d:.]+ \[([VIWEF]):onnxruntime/;

/** ORT log lines carry "2026-… [V:onnxruntime:, file.cc:123 Function] message"; the message alone. */
export function logMessage(line: string): string {
  return line.replace(/\x1b\[[\d;]*m/g, '').replace(/^\d{4}-\d\d-\d\d [\d:.]+ \[[VIWEF]:onnxruntime:[^\]]*\]/, '');
}

/**
 * Nodes ORT placed on the CPU, from its verbose "Node placements" report:
 * " Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2" followed by "  OpType (node name)" lines.
 */
export function cpuNodesFromLog(lines: string[]): string[] {
  const out: string[] = [];
  let inCpu = false;
  for (const raw of lines) {
    for (const line of raw.split('\n').map(logMessage)) {
      if (/placed on \[/.test(line)) {
        inCpu = /placed on \[CPUExecutionProvider\]/.test(line) && !/All nodes/.test(line);
        continue;
      }
      if (!inCpu) continue;
      const m = /^\s+(\S+) \((.*)\)\s*$/.exec(line);
      if (m) out.push(`${m[2] || '(unnamed)'} (${m[1]})`);
      else if (line.trim()) inCpu = false;
    }
  }
  return out;
}
