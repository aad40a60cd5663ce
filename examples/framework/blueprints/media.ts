// A file download and a streamed response.
import * as path from 'node:path';
import { App, Blueprint, endpoint, Request, responses } from 'pyre-http';

export class Media extends Blueprint {
  // Downloads this module's own file: one that exists wherever the example runs from.
  @endpoint('/download/source')
  source() {
    return new responses.FileResponse(__filename, { download: path.basename(__filename) });
  }

  @endpoint('/count/{to:int}')
  count(_request: Request, to: number) {
    async function* numbers() {
      for (let i = 1; i <= Math.min(to, 100_000); i++) yield `${i}\n`;
    }
    return new responses.StreamResponse(numbers(), { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
}

export function setup(app: App) {
  app.addBlueprint(new Media());
}
