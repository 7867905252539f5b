import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { KgentsError } from '../common/errors.ts';

/**
 * The nucleus's one way to an LLM: Morpheus, through the official `openai` and
 * `@anthropic-ai/sdk` clients with only the base URL changed. Each client is asked for per use,
 * so a nucleus without Morpheus still starts and each request says what to set.
 */
export interface Gateway {
  openai(): OpenAI;
  anthropic(): Anthropic;
}

export function morpheusGateway(morpheusUrl: string | undefined, apiKey = 'kgents-nucleus'): Gateway {
  const base = morpheusUrl?.replace(/\/$/, '');
  const openai = base ? new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0 }) : null;
  const anthropic = base ? new Anthropic({ baseURL: base, apiKey, maxRetries: 0 }) : null;
  const configured = <T>(client: T | null): T => {
    if (!client) throw new KgentsError('NOT_CONFIGURED', 'no LLM gateway: set MORPHEUS_URL (or LLM_ENDPOINT) to the Morpheus base URL');
    return client;
  };
  return { openai: () => configured(openai), anthropic: () => configured(anthropic) };
}
