import { z } from 'zod';
import { apiRegistry } from './apiSchemas';

/**
 * The OpenAPI 3.1 description of /api/v1, generated from the schemas the routes answer through
 * (apiSchemas.ts), so that the document cannot drift from the answers.
 */
export function openApiDocument(baseUrl: string): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(apiRegistry, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
  const json = (id: string, description: string) => ({
    description,
    headers: {
      'Cache-Control': { description: 'public, for COUNT_REFRESH_SECONDS', schema: { type: 'string' } },
      ETag: { schema: { type: 'string' } },
    },
    content: { 'application/json': { schema: ref(id) } },
  });
  const notFound = { description: 'No such petition', content: { 'application/json': { schema: ref('Error') } } };
  const lang = {
    name: 'lang',
    in: 'query',
    required: false,
    description: 'Language of the texts (English by default)',
    schema: { type: 'string', enum: ['en', 'fr'] },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Undersigned public read API',
      version: '1',
      description:
        'Counts, texts and deliveries of the campaign’s petitions, for journalists and partners. No personal data. ' +
        'Answers may be cached for COUNT_REFRESH_SECONDS; CORS is open. Version 1 only gains fields.',
    },
    servers: [{ url: `${baseUrl}/api/v1` }],
    paths: {
      '/campaign': {
        get: {
          operationId: 'getCampaign',
          summary: 'The campaign, its source and its demands',
          parameters: [lang],
          responses: { '200': json('Campaign', 'The campaign') },
        },
      },
      '/petitions': {
        get: {
          operationId: 'listPetitions',
          summary: 'Every petition with its count',
          parameters: [lang],
          responses: { '200': json('PetitionList', 'The petitions, in the campaign’s order') },
        },
      },
      '/petitions/{slug}': {
        get: {
          operationId: 'getPetition',
          summary: 'One petition: counts by country and by day',
          parameters: [{ name: 'slug', in: 'path', required: true, schema: { type: 'string' } }, lang],
          responses: { '200': json('Petition', 'The petition'), '404': notFound },
        },
      },
    },
    components: { schemas },
  };
}
