export { type SpikingModule, type LayerCost, walk, resetNet } from './module.js';
export { SpikeTensor } from './spike-tensor.js';
export { LIFNode, type LIFNodeOptions, type LIFNodeOutputs } from './lif-node.js';
export { LIF_DEFAULTS } from './defaults.js';
