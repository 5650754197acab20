/**
 * Dawn (npm `webgpu`) for Node scripts. On a machine without a GPU driver, Dawn finds SwiftShader only
 * when the process starts with LD_LIBRARY_PATH=/usr/lib/chromium and
 * VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (Debian's chromium package ships
 * libvulkan.so.1 and SwiftShader there); the dynamic loader reads LD_LIBRARY_PATH at start-up, so it
 * cannot be set from inside the process.
 */
export const CHROMIUM_LIB_DIR = '/usr/lib/chromium';

export function swiftShaderEnv(dir = CHROMIUM_LIB_DIR): Record<string, string> {
  return {
    LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    VK_ICD_FILENAMES: `${dir}/vk_swiftshader_icd.json`,
  };
}

/** Dawn's GPU object, with Dawn's WebGPU globals (GPUBufferUsage, …) installed on globalThis. */
export async function nodeGpu(flags: string[] = []): Promise<GPU> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  return create(flags);
}
