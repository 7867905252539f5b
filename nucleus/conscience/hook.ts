/**
 * The conscience ("soul as a library"): every agent decision passes through this hook, in
 * process, before it takes effect. It may allow it, annotate it, or hold it for a human.
 */
export interface AgentDecision {
  agent: string;
  input: string;
  output: string;
  model: string;
}

export type Verdict = { action: 'allow'; annotations?: string[] } | { action: 'hold'; reason: string };

export type Conscience = (decision: AgentDecision, manifest: { requiresApproval?: boolean; holdOn?: string[] }) => Verdict | Promise<Verdict>;

/** The default: hold what the manifest says needs approval or what mentions a hold word; annotate the rest. */
export const defaultConscience: Conscience = (decision, manifest) => {
  if (manifest.requiresApproval) return { action: 'hold', reason: 'the agent manifest requires human approval' };
  const lower = decision.output.toLowerCase();
  const hit = (manifest.holdOn ?? []).find((w) => lower.includes(w.toLowerCase()));
  if (hit) return { action: 'hold', reason: `the output mentions "${hit}"` };
  return { action: 'allow', annotations: [`reviewed in process; ${decision.output.length} characters`] };
};
