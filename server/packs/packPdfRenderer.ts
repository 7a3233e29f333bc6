import type { PackDocument } from './packDocument';

/** Writes a pack's PDF to `out` (streaming), answering how many pages it has. */
export type RenderPackPdf = (doc: PackDocument, out: NodeJS.WritableStream) => Promise<{ pages: number }>;

/** This build has no PDF renderer (server/packs/packPdf.ts): the packs' CSVs still work. */
export class PackPdfUnavailable extends Error {
  constructor() {
    super('the pack PDF renderer (server/packs/packPdf.ts) is not part of this build');
    this.name = 'PackPdfUnavailable';
  }
}

let loaded: Promise<RenderPackPdf> | undefined;

/**
 * The renderer of server/packs/packPdf.ts, loaded the first time a PDF is asked for: it brings a PDF
 * library and fonts that nothing else needs, so the server and the CLIs start without them.
 */
export function loadPackPdf(): Promise<RenderPackPdf> {
  loaded ??= (async () => {
    const modulePath = './packPdf';
    try {
      const mod = (await import(modulePath)) as { renderPackPdf: RenderPackPdf };
      return mod.renderPackPdf;
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const missing = code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
      if (missing && String((error as Error).message).includes('packPdf')) {
        throw new PackPdfUnavailable();
      }
      throw error;
    }
  })();
  return loaded;
}
