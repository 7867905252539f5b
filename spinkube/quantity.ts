/** Kubernetes resource quantities (`100m`, `0.5`, `128Mi`, `1G`) as numbers: cores, or bytes. */
const SUFFIX: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

export const quantityValue = (q: string) => parseFloat(q) * (SUFFIX[/[a-zA-Z]+$/.exec(q)?.[0] ?? ''] ?? 1);
