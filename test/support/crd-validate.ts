import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';
import { REPO_ROOT } from './tmp.ts';

/**
 * Validates objects against the real SpinKube CRD schemas (spinkube/crds/, copied from the
 * operator) with a JSON-schema validator over each version's openAPIV3Schema, as the API
 * server would before storing them.
 */
interface Crd {
  spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: object } }[] };
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const validators = new Map<string, ReturnType<Ajv['compile']>>();

for (const file of readdirSync(join(REPO_ROOT, 'spinkube', 'crds'))) {
  const crd = parse(readFileSync(join(REPO_ROOT, 'spinkube', 'crds', file), 'utf8')) as Crd;
  for (const version of crd.spec.versions) {
    validators.set(`${crd.spec.group}/${version.name}|${crd.spec.names.kind}`, ajv.compile(intOrString(version.schema.openAPIV3Schema)));
  }
}

/** Kubernetes' int-or-string marker means "integer or string"; JSON schema needs it spelled out. */
function intOrString(node: unknown): object {
  if (Array.isArray(node)) return node.map(intOrString);
  if (!node || typeof node !== 'object') return node as object;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = intOrString(v);
  if (out['x-kubernetes-int-or-string'] && !out.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  return out;
}

export function crdErrors(object: object): ErrorObject[] {
  const { apiVersion, kind } = object as { apiVersion?: string; kind?: string };
  const validate = validators.get(`${apiVersion}|${kind}`);
  if (!validate) throw new Error(`no CRD for ${apiVersion} ${kind}`);
  return validate(object) ? [] : (validate.errors ?? []);
}
