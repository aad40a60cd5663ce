// The `responses` namespace of the public API.
export { Response, type ResponseInit, type BodyInit } from './response';
export { TextResponse, HTMLResponse, JSONResponse, RedirectResponse } from './simple';
export { StreamResponse, type StreamSource } from './stream';
export { FileResponse, type FileResponseInit } from './file';
