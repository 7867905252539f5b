import OpenAI from 'openai';
import { KgentsError } from '../common/errors.ts';

/**
 * The nucleus's one way to an LLM: Morpheus, through the official `openai` client with only the
 * baseURL changed. Called per use, so a nucleus without Morpheus still starts and each request
 * says what to set.
 */
export type Gateway = () => OpenAI;

export function morpheusGateway(morpheusUrl: string | undefined, apiKey = 'kgents-nucleus'): Gateway {
  const client = morpheusUrl ? new OpenAI({ baseURL: `${morpheusUrl.replace(/\/$/, '')}/v1`, apiKey, maxRetries: 0 }) : null;
  return () => {
    if (!client) throw new KgentsError('NOT_CONFIGURED', 'no LLM gateway: set MORPHEUS_URL (or LLM_ENDPOINT) to the Morpheus base URL');
    return client;
  };
}
