/** Model factories the `spikewasm run` command will accept (the official constructor names, shared/fixtures/README.md). */
export const FACTORIES = ['lmu_rnn_conv1d', 'slmu_rnn_ms_conv1d', 'psmnist_lmu', 'psmnist_slmu', 'spikformer'] as const;
export type Factory = (typeof FACTORIES)[number];
