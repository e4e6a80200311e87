/**
 * An uploaded file → its RGBA pixels, decoded by the browser (createImageBitmap, then a canvas), at
 * most 256 pixels on a side (a digit needs no more; the message to the worker stays small). The
 * worker turns them into an MNIST digit (src/data/digit-image.ts). A file the browser cannot decode
 * as an image is refused with a message that says so.
 */
const MAX_SIDE = 256;

export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

export class NotAnImage extends Error {}

export async function decodeImageFile(file: File): Promise<DecodedImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new NotAnImage(`“${file.name}” is not an image this browser can read: choose a PNG, JPEG, GIF, WebP or BMP file.`);
  }
  try {
    const f = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * f));
    const height = Math.max(1, Math.round(bitmap.height * f));
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new NotAnImage('This browser cannot read images here (no 2D canvas).');
    ctx.drawImage(bitmap, 0, 0, width, height);
    const data = ctx.getImageData(0, 0, width, height).data;
    return { width, height, rgba: new Uint8Array(data.buffer.slice(0)) };
  } finally {
    bitmap.close();
  }
}
