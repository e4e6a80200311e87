/**
 * The Edit panel's input: a 28×28 pad to draw on with the pointer (brush, eraser; in inpainting
 * also the mask: regenerate / keep), Clear, a real digit from the Data panel, or an uploaded image.
 */
import { useEffect, useRef, useState, type ChangeEvent, type PointerEvent } from 'react';
import type { ImageBatch } from '../../protocol/messages';
import { blankInput, keepAll } from '../../state/edit/edit-client';
import { useApp, useEngine, useFrames } from '../context';
import { SelectField } from '../fields';
import { decodeImageFile } from './upload';
import { lowerHalfMask, padPixels, paintTool, paintToolStroke, PIXELS, SIZE, type PadTool } from './pad-math';
import { useEdit } from './use-edit';

const TOOL_LABELS: Record<PadTool, string> = { brush: 'Brush (ink)', eraser: 'Eraser', regenerate: 'Mask: regenerate', keep: 'Mask: keep' };

function realDigit(data: ImageBatch | null, k: number): Float32Array | null {
  if (!data || data.h * data.w * data.c !== PIXELS || k < 0 || k >= data.n) return null;
  return Float32Array.from(data.pixels.subarray(k * PIXELS, (k + 1) * PIXELS));
}

export function InputPad() {
  const client = useEngine().edit;
  const input = useEdit((s) => s.input);
  const mask = useEdit((s) => s.mask);
  const mode = useEdit((s) => s.form.mode);
  const note = useEdit((s) => s.uploadNote);
  const data = useFrames((s) => s.data);
  const labels = useApp((s) => s.data?.labels ?? null);
  const [tool, setTool] = useState<PadTool>('brush');
  const [digit, setDigit] = useState('');
  const canvas = useRef<HTMLCanvasElement>(null);
  const stroke = useRef<{ input: Float32Array; mask: Float32Array; x: number; y: number } | null>(null);
  const inpaint = mode === 'inpaint';
  const usable: PadTool = !inpaint && (tool === 'regenerate' || tool === 'keep') ? 'brush' : tool;

  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(SIZE, SIZE);
    img.data.set(padPixels(input, inpaint ? mask : null));
    ctx.putImageData(img, 0, 0);
  }, [input, mask, inpaint]);

  const at = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * SIZE, y: ((e.clientY - r.top) / r.height) * SIZE };
  };
  const publish = (s: { input: Float32Array; mask: Float32Array }) => {
    if (usable === 'brush' || usable === 'eraser') client.setInput(Float32Array.from(s.input));
    else client.setMask(Float32Array.from(s.mask));
  };
  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture?.(e.pointerId);
    const { x, y } = at(e);
    const s = { input: Float32Array.from(input), mask: Float32Array.from(mask), x, y };
    paintTool(usable, s.input, s.mask, x, y);
    stroke.current = s;
    publish(s);
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const s = stroke.current;
    if (!s) return;
    const { x, y } = at(e);
    if (paintToolStroke(usable, s.input, s.mask, s.x, s.y, x, y)) publish(s);
    s.x = x;
    s.y = y;
  };
  const end = () => {
    stroke.current = null;
  };
  const onUpload = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    try {
      const img = await decodeImageFile(file);
      client.convert(file.name, img.width, img.height, img.rgba);
    } catch (err) {
      client.uploadFailed(err instanceof Error ? err.message : String(err));
    }
  };
  const pick = (value: string) => {
    setDigit(value);
    const d = realDigit(data, Number(value));
    if (value !== '' && d) client.setInput(d);
  };

  const tools: PadTool[] = inpaint ? ['brush', 'eraser', 'regenerate', 'keep'] : ['brush', 'eraser'];
  const digitOptions = [
    { value: '', label: 'Choose…' },
    ...Array.from({ length: data && labels ? Math.min(data.n, labels.length) : 0 }, (_, k) => ({ value: String(k), label: `Real digit ${k + 1}: a ${labels?.[k]}` })),
  ];
  return (
    <div className="edit-input">
      <figure className="edit-pad">
        <canvas
          ref={canvas}
          className="digits edit-pad__canvas"
          role="img"
          aria-label={inpaint ? 'Edit input and mask (draw with the pointer; orange is regenerated)' : 'Edit input (draw with the pointer)'}
          width={SIZE}
          height={SIZE}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={end}
          onPointerCancel={end}
        />
        <figcaption>{inpaint ? 'Input x₀; orange: the part to regenerate' : 'Input x₀: draw on it'}</figcaption>
      </figure>
      <div className="edit-input__controls">
        <fieldset className="edit-tools">
          <legend>Pointer paints</legend>
          {tools.map((t) => (
            <label key={t} className="edit-tool">
              <input type="radio" name="edit-tool" value={t} checked={usable === t} onChange={() => setTool(t)} />
              {TOOL_LABELS[t]}
            </label>
          ))}
        </fieldset>
        <div className="edit-buttons">
          <button type="button" onClick={() => client.setInput(blankInput())}>
            Clear drawing
          </button>
          {inpaint ? (
            <>
              <button type="button" onClick={() => client.setMask(lowerHalfMask())}>
                Regenerate lower half
              </button>
              <button type="button" onClick={() => client.setMask(keepAll())}>
                Clear mask
              </button>
            </>
          ) : null}
        </div>
        <SelectField label="Real digit" value={digit} options={digitOptions} onChange={pick} />
        <div className="field">
          <label htmlFor="edit-upload">Upload an image</label>
          <input id="edit-upload" type="file" accept="image/*" onChange={(e) => void onUpload(e)} />
        </div>
        {note ? (
          <p className={note.kind === 'error' ? 'field-error' : 'field-hint'} role={note.kind === 'error' ? 'alert' : 'status'} aria-label="Upload note">
            {note.text}
          </p>
        ) : null}
      </div>
    </div>
  );
}
