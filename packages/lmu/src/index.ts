/**
 * The LMU window and memory order of LMUFormer's Speech Commands v2 blocks (shared/spec/lmuformer.md §2–3):
 * θ = seq_len = 128 frames; memory order d = embed_dims (non-spiking) or 2·embed_dims (spiking).
 */
export const SCV2_SEQ_LEN = 128;

/** Memory order of an LMUFormer block: d = embed_dims, or 2·embed_dims for the spiking model. */
export function lmuformerMemoryOrder(embedDims: number, spiking: boolean): number {
  return spiking ? 2 * embedDims : embedDims;
}
