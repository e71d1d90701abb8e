import { Access, RawBody } from '@beacon/platform';
import { Body, Controller, Get, HttpCode, Inject, Post, Query, Res, UnsupportedMediaTypeException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { ExportService, type ImportResult } from './export.service';
import { InvalidImport, NDJSON } from './export-lines';

/** `?merge=`: only the words a flag is written with; anything else is a 400, not a silent false. */
function mergeFlag(value: unknown): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw new InvalidImport(`query parameter "merge" must be true or false, got ${JSON.stringify(value)}`);
}

/** JSON lines under the names clients give them; none at all reads as JSON lines too, as other bodies read as JSON. */
const IMPORT_TYPES = new Set([NDJSON, 'application/jsonl', 'application/json', '']);

/** The media type of a Content-Type header, lower case, without parameters. */
const mediaType = (header: string | undefined): string => (header?.split(';', 1)[0] ?? '').trim().toLowerCase();

/**
 * The whole catalog out and in (`application/x-ndjson`). Both hold every record, so both
 * are writes to the guard: with a token set, neither answers without it, whatever
 * BEACON_AUTH_READS says.
 */
@Controller('api/v1')
export class ExportController {
  constructor(@Inject(ExportService) private readonly exports: ExportService) {}

  @Get('export')
  @Access('write')
  export(@Res() reply: FastifyReply): void {
    const now = Date.now();
    void reply
      .type(NDJSON)
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="beacon-export-${new Date(now).toISOString().slice(0, 10)}.ndjson"`)
      .send(Readable.from(this.exports.lines(now)));
  }

  @Post('import')
  @HttpCode(200)
  @Access('write')
  async import(@Body() body: unknown, @Query('merge') merge: unknown): Promise<ImportResult> {
    const merging = mergeFlag(merge);
    if (!(body instanceof RawBody) || body.bytes.length === 0) {
      throw new InvalidImport('the body is empty: send the lines GET /api/v1/export wrote (curl --data-binary @file)');
    }
    const type = mediaType(body.contentType);
    if (!IMPORT_TYPES.has(type)) {
      throw new UnsupportedMediaTypeException({
        detail: `Unsupported Content-Type "${type.slice(0, 100)}": send the export with "Content-Type: ${NDJSON}"`,
      });
    }
    return this.exports.importCatalog(body.bytes, merging);
  }
}
