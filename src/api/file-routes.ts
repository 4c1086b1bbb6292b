/**
 * File uploads for message attachments: `POST /files` takes the raw bytes with their
 * Content-Type (images or plain text, at most 10 MiB) and answers 201 with the file's id, which
 * messages reference as `{"type": "file", "file_id": …}`. `GET /files/:id` returns the bytes
 * to their owner; anyone else gets 404.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import { ALLOWED_FILE_TYPES, isAllowedFileType, MAX_FILE_BYTES, UploadFileQuery } from '../domain/chat-file.js';
import { type ChatFiles } from '../db/chat-files.js';
import { currentUser } from './auth.js';
import { HttpError } from './http-error.js';
import { parseRequest } from './validate.js';

const FileIdParams = z.object({ fileId: z.uuid() });

export function createFileRouter(dependencies: { files: ChatFiles }): Router {
  const router = Router();
  const rawBody = express.raw({ type: () => true, limit: MAX_FILE_BYTES });

  router.post('/files', (request, response, next) => {
    // Check the type before reading a byte of the body.
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!isAllowedFileType(mediaType)) {
      next(new HttpError(415, `Unsupported file type "${mediaType || '(none)'}".`, `Upload one of: ${ALLOWED_FILE_TYPES.join(', ')}, as the request's Content-Type.`));
      return;
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > MAX_FILE_BYTES) {
      next(new HttpError(413, 'File too large.', `Files may be at most ${MAX_FILE_BYTES / 1024 / 1024} MiB.`));
      return;
    }
    rawBody(request, response, (error?: unknown) => {
      if (error !== undefined) {
        next((error as { type?: string }).type === 'entity.too.large' ? new HttpError(413, 'File too large.', `Files may be at most ${MAX_FILE_BYTES / 1024 / 1024} MiB.`) : error);
        return;
      }
      const data = request.body as unknown;
      if (!Buffer.isBuffer(data) || data.length === 0) {
        next(new HttpError(400, 'The file is empty.', 'Send the file\'s bytes as the request body.'));
        return;
      }
      const query = parseRequest(UploadFileQuery, request.query, 'query');
      dependencies.files
        .insert({ ownerId: currentUser(request).id, name: query.name ?? 'upload', mediaType, data })
        .then((file) => response.status(201).json(file))
        .catch(next);
    });
  });

  router.get('/files/:fileId', async (request, response) => {
    const params = FileIdParams.safeParse(request.params);
    if (!params.success) throw new HttpError(404, 'File not found.');
    const found = await dependencies.files.ownedContent(currentUser(request).id, params.data.fileId);
    if (found === undefined) throw new HttpError(404, 'File not found.');
    response.setHeader('content-type', found.file.media_type);
    response.setHeader('content-disposition', `attachment; filename="${found.file.name.replaceAll('"', '')}"`);
    response.send(found.data);
  });

  return router;
}
