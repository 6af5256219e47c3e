// Where a path given on the command line of the package's scripts points.
import { resolve } from 'node:path';

/**
 * `p` resolved from where npm was started (INIT_CWD), not from this package: `npm run -w` runs the script in the
 * package folder, so `--out models/x.safetensors` typed at the repository root means the root's models/ folder.
 */
export function userPath(p: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), p);
}
