import { z } from 'zod';

export const InvokeRequest = z.object({ input: z.string().min(1, 'say something to the agent'), stream: z.boolean().default(false) }).strict();
export const ResolveRequest = z.object({ input: z.string().min(1, 'the human decision') }).strict();
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() }) });
