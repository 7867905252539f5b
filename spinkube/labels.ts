/**
 * Every kgents object and pod carries this label: `kgents status` lists by it, and
 * k8s/redis.yaml admits only such pods to Redis. A module of its own, so `status` does not
 * load the scaffold (and through it the reflex host) to read one label.
 */
export const PART_OF = { 'app.kubernetes.io/part-of': 'kgents-edge' } as const;

/**
 * A SpinApp's pod annotation, which the spin-operator copies onto its Deployment's pod template:
 * a digest of everything in the SpinApp that reaches the pods. `kgents deploy` knows the pods
 * run what it applied once the rolled-out template carries the same digest, whatever changed
 * (image, variables, resources, the readiness check, the Redis URL in the runtime config).
 */
export const POD_SPEC_ANNOTATION = 'kgents-edge/pod-spec';

/** The same label as a Kubernetes label selector. */
export const PART_OF_SELECTOR = Object.entries(PART_OF).map(([key, value]) => `${key}=${value}`).join(',');
