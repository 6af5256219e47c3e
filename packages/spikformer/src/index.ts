/** Spikformer's attention scale s (shared/spec/spikformer.md §1): 0.125 for CIFAR and ImageNet, 0.25 for CIFAR10-DVS. */
export const SSA_SCALE = { cifar: 0.125, imagenet: 0.125, dvs: 0.25 } as const;

/** Token count after Spiking Patch Splitting: N = (H/4)·(W/4); H and W must be multiples of 4. */
export function spikformerTokens(height: number, width: number): number {
  if (height % 4 !== 0 || width % 4 !== 0) throw new RangeError(`Spikformer input must be a multiple of 4 in both sides, got ${height}×${width}`);
  return (height / 4) * (width / 4);
}
