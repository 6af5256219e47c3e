// @spikewasm/cli: the `spikewasm` command (bin: dist/cli.js). The pieces are exported for programmatic use and tests.
export { main, oneLine, USAGE, RUN_USAGE, INFO_USAGE, STREAM_USAGE, type Io } from './main.js';
export { infoCheckpoint, formatInfo, infoJson, countStateDict, type InfoOptions, type InfoResult, type EnergyInfo } from './info.js';
export { streamCheckpoint, formatUpdate, formatStart, type StreamOptions, type StreamUpdate, type StreamInfo } from './stream.js';
export { lmuformerMacs, psmnistMacs, spikformerMacs, type MacCount } from './macs.js';
export {
  runCheckpoint, checkFactory, parseConfig, topK, formatSummary, toJson, FACTORIES, SUPPORTED_FACTORIES,
  type Factory, type RunOptions, type RunResult, type TopClass,
} from './run.js';
export { readNpy, isNpy, NpyError, NPY_DTYPES, type NpyArray, type NpyDType } from './npy.js';
export { CliError, UsageError, NotSupportedError } from './errors.js';
