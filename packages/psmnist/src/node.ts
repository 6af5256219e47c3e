// Node-only entry (`@spikewasm/psmnist/node`): reads the `mnist` package from disk.
export * from './index.js';
export { mnistDigitsDir, readMnistClasses, loadMnistSplit } from './mnist-node.js';
