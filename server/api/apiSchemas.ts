import { z } from 'zod';
import { responseChannels } from '../responses/responsesRepository';

/**
 * The public read API's answers, as zod schemas: the routes build their answers through them, the
 * OpenAPI document is generated from them, and the tests check real answers against that document.
 * Version 1 only ever gains fields: none is renamed or removed.
 */
/** The schemas the OpenAPI document names (components.schemas), by id. */
export const apiRegistry = z.registry<{ id: string }>();

const count = z.int().min(0);
const slug = z.string().regex(/^[a-z0-9-]+$/);
const country = z
  .string()
  .regex(/^[A-Z]{2}$/)
  .describe('ISO 3166-1 alpha-2 code');

export const petitionSummary = z
  .object({
    slug,
    title: z.string(),
    demand: slug.nullable().describe('The campaign demand the petition carries, if any'),
    state: z
      .enum(['open', 'closed'])
      .describe(
        'Closed once its closing time has passed, or when closed by hand; a closed petition takes no signatures',
      ),
    closesAt: z.iso
      .datetime()
      .nullable()
      .describe('When an open petition closes itself; null when it has no closing date or is closed'),
    closedAt: z.iso.datetime().nullable().describe('When it closed; null while open'),
    count: count.describe('Signatures confirmed by email and not invalidated'),
    goal: z.int().positive(),
    url: z.url().describe('The petition page'),
    api: z.url().describe('This petition in the API'),
  })
  .strict()
  .register(apiRegistry, { id: 'PetitionSummary' });

export const petitionDetail = petitionSummary
  .extend({
    body: z.string().describe('The petition text, plain text with blank lines between paragraphs'),
    countsByCountry: z
      .array(z.object({ country, count }).strict())
      .describe('Confirmed signatures by the signer’s country, largest first'),
    validatedPerDay: z
      .array(z.object({ date: z.iso.date(), count }).strict())
      .describe('Signatures confirmed per UTC day, days without any left out'),
    responses: z
      .array(
        z
          .object({
            country: country.describe('The delegation’s country (ISO 3166-1 alpha-2)'),
            delegation: z.string().describe('The delegation that answered'),
            date: z.iso.date().describe('The day the answer was received'),
            channel: z.enum(responseChannels).describe('How the answer came'),
            text: z.string().describe('The answer, or the organisers’ summary of it (plain text)'),
            link: z.url().nullable().describe('Where the answer is published, if anywhere'),
          })
          .strict(),
      )
      .describe('What the delegations answered about the petition or its demand, newest first'),
  })
  .strict()
  .register(apiRegistry, { id: 'Petition' });

export const petitionList = z
  .object({ petitions: z.array(petitionSummary) })
  .strict()
  .register(apiRegistry, { id: 'PetitionList' });

export const campaign = z
  .object({
    title: z.string(),
    intro: z.string(),
    source: z
      .object({
        author: z.string(),
        role: z.string(),
        title: z.string(),
        publication: z.string(),
        year: z.int().nullable(),
      })
      .strict()
      .describe('The op-ed the campaign comes from'),
    demands: z.array(
      z
        .object({
          slug,
          title: z.string(),
          summary: z.string(),
          petition: slug.nullable(),
          count: count.describe('Confirmed signatures of the demand’s petition'),
        })
        .strict(),
    ),
    petitions: z.url().describe('The list of petitions in the API'),
  })
  .strict()
  .register(apiRegistry, { id: 'Campaign' });

export const apiError = z.object({ error: z.string() }).strict().register(apiRegistry, { id: 'Error' });
