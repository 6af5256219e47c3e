// Node-only entry (`@spikewasm/psmnist/node`): reads the `mnist` package from disk, runs worker threads.
export * from './index.js';
export { mnistDigitsDir, readMnistClasses, loadMnistSplit } from './mnist-node.js';
export { trainPsMnist, startWorkers, type EpochReport } from './train-node.js';
export { evaluateModel, type Evaluation } from './eval-node.js';
