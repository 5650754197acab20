// AssemblyScript entry of the WASM SIMD kernels (compiled by scripts/build-wasm.mjs): one module, its exports
// re-exported family by family. The sources are .as, not .ts, so the project's TypeScript check does not read them;
// the build hands them to the AssemblyScript compiler as in-memory .ts files.

export { heapBase } from './common';
export { moments, channelRuns, channelRows, histogram, mergeHistograms, gather } from './stats';
export { decodeFp16, decodeBf16 } from './codecs';
export { quantRuns, quantPrep, quantRows, minMaxRuns, minMaxRows, candRuns, candPrep, candUnprep, candRows, packNibbles } from './quant';
export { maskBelow, nmRows, nmCols, normRuns, normRows } from './prune';
export { gramUpper, blockUpdate } from './linalg';
