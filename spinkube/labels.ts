/**
 * Every kgents object and pod carries this label: `kgents status` lists by it, and
 * k8s/redis.yaml admits only such pods to Redis. A module of its own, so `status` does not
 * load the scaffold (and through it the reflex host) to read one label.
 */
export const PART_OF = { 'app.kubernetes.io/part-of': 'kgents-edge' } as const;

/** The same label as a Kubernetes label selector. */
export const PART_OF_SELECTOR = Object.entries(PART_OF).map(([key, value]) => `${key}=${value}`).join(',');
