/** Labelled form controls: every control has a visible <label> tied to it by id. */
import { useId, useState, type ReactNode } from 'react';
import type { Validator } from '../state/validate';

interface NumberFieldProps {
  label: string;
  value: number;
  /** Called with every value the user enters (NaN for an empty or unreadable box); the store keeps it, validity is derived. */
  onCommit: (value: number) => void;
  validate: Validator;
  step?: number | 'any';
  min?: number;
  max?: number;
  disabled?: boolean;
  hint?: ReactNode;
}

/** A numeric input with live validation: the message shows under the box, and the panels disable their run buttons while a value is invalid. */
export function NumberField({ label, value, onCommit, validate, step = 'any', min, max, disabled, hint }: NumberFieldProps) {
  const id = useId();
  const [text, setText] = useState(String(value));
  const [shown, setShown] = useState(value);
  // The value changed from outside (e.g. a reset, or a commit that normalised the text): show it.
  if (!Object.is(value, shown)) {
    setShown(value);
    if (!Object.is(parse(text), value)) setText(Number.isNaN(value) ? '' : String(value));
  }
  const error = validate(parse(text));
  const describedBy = [error ? `${id}-err` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field--invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        value={text}
        step={step}
        min={min}
        max={max}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        onChange={(e) => {
          const next = e.target.value;
          setText(next);
          const v = parse(next);
          setShown(v);
          onCommit(v);
        }}
      />
      {hint ? (
        <p className="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-err`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

function parse(text: string): number {
  return text.trim() === '' ? NaN : Number(text);
}

interface SelectFieldProps<T extends string> {
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (value: T) => void;
  disabled?: boolean;
  /** Spans both columns of a .grid2. */
  wide?: boolean;
}

export function SelectField<T extends string>({ label, value, options, onChange, disabled, wide }: SelectFieldProps<T>) {
  const id = useId();
  return (
    <div className={`field${wide ? ' field--wide' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value as T)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

interface CheckboxFieldProps {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  disabled?: boolean;
}

export function CheckboxField({ label, checked, onChange, disabled }: CheckboxFieldProps) {
  const id = useId();
  return (
    <div className="field field--check">
      <input id={id} type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

/** A titled panel: a <section> named by its heading, so it is a landmark region ("Data", "Training", ...). */
export function Panel({ title, children, className }: { title: string; children: ReactNode; className?: string }) {
  const id = useId();
  return (
    <section className={`panel${className ? ` ${className}` : ''}`} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** Classifier-free guidance scale: a 0-10 slider in steps of 0.1 (the pretrained pixel model's best is 1.3, the LDM's 1.5) with its value beside it. */
export function GuidanceSlider({ value, disabled, onChange }: { value: number; disabled: boolean; onChange: (v: number) => void }) {
  const id = useId();
  return (
    <div className="field field--range">
      <label htmlFor={id}>Guidance scale w</label>
      <div className="range-row">
        <input id={id} type="range" min={0} max={10} step={0.1} value={value} disabled={disabled} onChange={(e) => onChange(Number(e.target.value))} aria-describedby={`${id}-hint`} />
        <output htmlFor={id} aria-label="Guidance scale value">
          {value.toFixed(1)}
        </output>
      </div>
      <p className="field-hint" id={`${id}-hint`}>
        {disabled ? 'Needs a class-conditional model.' : '0 = unconditional, 1 = conditional, > 1 = stronger (classifier-free guidance).'}
      </p>
    </div>
  );
}
